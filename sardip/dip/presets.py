"""Named DIP configurations: the one registry that the workflow config, the CLI and the tests share.

A :class:`Preset` holds every parameter of a fit (network, loss, input noise, optimiser, value scaling),
so that a result can be traced back to it through :meth:`Preset.config_hash`.

Presets
-------
``paper``
    The configuration the paper selected by its Table 1 grid search: reflection padding, deconvolution
    upsampling, SSIM loss (minimise -SSIM), uniform input noise, and the per-class activation
    (Barren, Forest, Water: tanh; Croplands, Grassland: leaky ReLU; Shrubland, Urban: ReLU), applied to
    every layer but the last for real. Values are normalised as the paper says ("approximately between
    -1 and 1"): ``x_n = (x_dB + 12.5) / 12.5`` maps the SEN12MS clip range [-25, 0] dB onto [-1, 1]
    without clipping, and SSIM uses the matching data range 2 on ``x_n + 2``, which maps -37.5 dB to 0
    (SSIM on signed values rewards the negated image, see :mod:`sardip.dip.losses`; calm water in VH
    lies below -25 dB, so a shift of 1 is not enough). What the paper leaves unsaid (widths,
    depth, normalisation layers, learning rate and its schedule, input jitter) is taken from the
    authors' release, because that is the code the paper's figures came from.
``authors-release``
    The authors' public code as run: the DIP U-Net with ``feature_scale=8, more_layers=1`` (widths
    8, 16, 32, 64, 128, 128), ReLU everywhere whatever the class, loss ``-0.5 SSIM + 0.5 MSE`` on raw
    dB values (no scaling) with SSIM constants for data range 1 and its zero-padded window (the
    release's ``pytorch_ssim``; the only code difference a line-by-line comparison found), Adam lr 1e-3 with
    ReduceLROnPlateau(factor 0.1, patience 250, min_lr 1e-8), uniform input noise in [-0.4, 0.4] and
    a fresh ``0.1 N(0, 1)`` jitter of the input at every iteration.
``credible``
    ``paper`` with ``speckle`` on and 500 iterations: the network output in the hole is taken as
    the background level and given new grain with the distribution and spatial correlation of the
    speckle (and texture) around the hole (:mod:`sardip.speckle`), so the hole cannot be told from its
    surroundings by its grain or its speckle strength (:mod:`sardip.audit`). The network and its fit
    are the paper's; only the post-processing of the hole and the iteration count differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from sardip.classes import PAPER_CLASSES
from sardip.dip.losses import SSIM_PADDINGS
from sardip.grain import GRAIN, GrainModel
from sardip.io import json_hash

ACTIVATIONS = ("tanh", "relu", "leaky_relu")
PADDINGS = ("reflection", "zero")
UPSAMPLINGS = ("bilinear", "nearest", "deconvolution")
NORMS = ("instance", "batch", "none")
NOISES = ("gaussian", "rayleigh", "uniform")
SCHEDULERS = ("plateau", "none")

#: Activation the paper selected for each land-cover class (its Section 3 / Table 1 search).
PAPER_ACTIVATION: dict[str, str] = {
    "Barren": "tanh",
    "Forest": "tanh",
    "Water": "tanh",
    "Croplands": "leaky_relu",
    "Grassland": "leaky_relu",
    "Shrubland": "relu",
    "Urban": "relu",
}

#: Widths of the release's ``UNet(feature_scale=8, more_layers=1)``: [64..1024] / 8 plus one more 128 level.
RELEASE_WIDTHS: tuple[int, ...] = (8, 16, 32, 64, 128, 128)


class PresetError(ValueError):
    """An unknown preset name, a missing or unknown land-cover class, or an invalid parameter."""


@dataclass(frozen=True)
class Preset:
    """Every parameter of a DIP fit.

    Network: a U-Net with ``len(widths)`` resolutions (``len(widths) - 1`` 2x poolings), ``widths[i]``
    channels at level ``i``; ``activation`` after every convolution but the final linear 1x1 one;
    ``norm`` after each encoder convolution (``batch`` with one image per network is per-channel
    statistics over H, W plus a learnt affine; ``instance`` has no affine, as in the release).
    Loss per tile: ``mse_weight * MSE - ssim_weight * SSIM`` on the known pixels, in normalised units
    ``x_n = (x_dB - db_offset) / db_scale``; SSIM sees ``x_n + ssim_offset`` (non-negative values,
    see :mod:`sardip.dip.losses`). Input: ``noise`` scaled by ``noise_scale`` (uniform draws
    lie in [-4, 4] before scaling), plus ``jitter * N(0, 1)`` redrawn every iteration when ``jitter > 0``.
    ``ssim_padding``: how the SSIM window meets the tile border (:data:`sardip.dip.losses.SSIM_PADDINGS`).
    ``speckle``: after the fit, give the hole speckle consistent with its surroundings
    (:func:`sardip.speckle.speckle_fill`) under the grain model ``grain``
    (:class:`sardip.speckle.GrainModel`, in the hash where ``speckle`` is on); it does not change the
    fit itself.
    """

    name: str
    land_cover: str | None = None
    widths: tuple[int, ...] = RELEASE_WIDTHS
    activation: str = "relu"
    leaky_slope: float = 0.2
    padding: str = "reflection"
    upsampling: str = "deconvolution"
    norm: str = "instance"
    ssim_weight: float = 1.0
    mse_weight: float = 0.0
    ssim_data_range: float = 2.0
    ssim_offset: float = 2.0
    ssim_padding: str = "valid"
    db_offset: float = -12.5
    db_scale: float = 12.5
    noise: str = "uniform"
    noise_scale: float = 0.1
    jitter: float = 0.1
    lr: float = 1e-3
    scheduler: str = "plateau"
    plateau_factor: float = 0.1
    plateau_patience: int = 250
    plateau_min_lr: float = 1e-8
    plateau_threshold: float = 1e-4
    iterations: int = 6000
    speckle: bool = False
    grain: GrainModel = GRAIN

    def __post_init__(self) -> None:
        choices = {
            "activation": ACTIVATIONS,
            "padding": PADDINGS,
            "upsampling": UPSAMPLINGS,
            "norm": NORMS,
            "noise": NOISES,
            "scheduler": SCHEDULERS,
            "ssim_padding": SSIM_PADDINGS,
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise PresetError(f"preset {self.name!r}: {key}={getattr(self, key)!r}; choose from {list(allowed)}")
        if len(self.widths) < 2 or any(int(w) < 1 for w in self.widths):
            raise PresetError(f"preset {self.name!r}: widths must list >= 2 positive channel counts, got {self.widths}")
        if self.ssim_weight < 0 or self.mse_weight < 0 or self.ssim_weight + self.mse_weight == 0:
            raise PresetError(f"preset {self.name!r}: loss weights must be >= 0 and not both 0")
        if self.db_scale <= 0 or self.ssim_data_range <= 0 or self.lr <= 0:
            raise PresetError(f"preset {self.name!r}: db_scale, ssim_data_range and lr must be > 0")
        if self.iterations < 0:
            raise PresetError(f"preset {self.name!r}: iterations must be >= 0")

    @property
    def depth(self) -> int:
        """Number of 2x poolings; tile sides are padded to a multiple of ``2 ** depth``."""
        return len(self.widths) - 1

    @property
    def loss_name(self) -> str:
        """``ssim``, ``mse`` or ``a*mse-b*ssim`` for a mix."""
        if self.mse_weight == 0:
            return "ssim"
        if self.ssim_weight == 0:
            return "mse"
        return f"{self.mse_weight:g}*mse-{self.ssim_weight:g}*ssim"

    def to_dict(self) -> dict:
        """All parameters as JSON-ready values (tuples become lists); the grain model only where the
        preset adds speckle (it shapes nothing else)."""
        out = dataclasses.asdict(self)
        out["widths"] = list(self.widths)
        if not self.speckle:
            del out["grain"]
        return out

    def config_hash(self) -> str:
        """First 16 hex digits of the SHA-256 of the sorted-key JSON of :meth:`to_dict`."""
        return json_hash(self.to_dict())

    def replace(self, **changes: object) -> Preset:
        """A copy with some parameters changed (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise PresetError(f"preset {self.name!r}: unknown parameter(s) {unknown}")
        if "widths" in changes:
            changes["widths"] = tuple(int(w) for w in changes["widths"])  # type: ignore[union-attr]
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _check_class(land_cover: str) -> str:
    if land_cover not in PAPER_CLASSES:
        raise PresetError(f"unknown land-cover class {land_cover!r}; choose from {list(PAPER_CLASSES)}")
    return land_cover


def _paper(land_cover: str | None) -> Preset:
    if land_cover is None:
        raise PresetError(f"preset 'paper' picks its activation by land-cover class: give one of {list(PAPER_CLASSES)}")
    land_cover = _check_class(land_cover)
    return Preset(
        name="paper",
        land_cover=land_cover,
        activation=PAPER_ACTIVATION[land_cover],
        padding="reflection",
        upsampling="deconvolution",
        ssim_weight=1.0,
        mse_weight=0.0,
        ssim_data_range=2.0,
        ssim_offset=2.0,
        db_offset=-12.5,
        db_scale=12.5,
        noise="uniform",
    )


def _credible(land_cover: str | None) -> Preset:
    if land_cover is None:
        base = _paper(PAPER_CLASSES[0]).replace(land_cover=None, activation=CLASS_FREE_ACTIVATION)
    else:
        base = _paper(land_cover)
    return base.replace(name="credible", speckle=True, iterations=CREDIBLE_ITERATIONS)


def _release(land_cover: str | None) -> Preset:
    return Preset(
        name="authors-release",
        land_cover=None if land_cover is None else _check_class(land_cover),
        activation="relu",
        padding="reflection",
        upsampling="deconvolution",
        ssim_weight=0.5,
        mse_weight=0.5,
        ssim_data_range=1.0,
        ssim_offset=0.0,
        ssim_padding="zero",
        db_offset=0.0,
        db_scale=1.0,
        noise="uniform",
        jitter=0.1,
    )


#: Iterations of the ``credible`` preset (see bench/results/credible.md for the time-to-quality curve).
CREDIBLE_ITERATIONS = 500
#: Activation of ``credible`` without a land-cover class, chosen by bench/bench_activation.py on the
#: real SEN12MS tile, the OPERA crops and the demo classes (bench/results/activation.md holds how often
#: each activation met every audit target, and its mean excess).
CLASS_FREE_ACTIVATION = "tanh"

#: Name -> factory taking the land-cover class (``None`` allowed where the preset does not need one).
PRESETS: dict[str, Callable[[str | None], Preset]] = {
    "paper": _paper,
    "authors-release": _release,
    "credible": _credible,
}


def get_preset(name: str, land_cover: str | None = None) -> Preset:
    """The preset called ``name`` for ``land_cover`` (one of ``PAPER_CLASSES``).

    ``paper`` needs the class, because its activation depends on it; ``credible`` takes the paper's
    activation of a class when given one and :data:`CLASS_FREE_ACTIVATION` otherwise;
    ``authors-release`` accepts one and records it, but (like the release) does not use it.
    """
    try:
        factory = PRESETS[name]
    except KeyError:
        raise PresetError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}") from None
    return factory(land_cover)
