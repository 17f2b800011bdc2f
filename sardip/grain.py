"""The grain model: the values speckle-consistent filling takes as given rather than estimating them
from the hole's ring (:mod:`sardip.speckle`). A module of its own, so that the presets that own it
(:class:`sardip.dip.presets.Preset`) load nothing of the fill."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from sardip.io import json_hash


@dataclass(frozen=True)
class GrainModel:
    """The shape of the grain a fill is given: the values :func:`sardip.speckle.speckle_fill` does not estimate from the
    ring but takes as they are. It belongs to the preset that adds speckle (its hash covers it,
    :class:`sardip.dip.presets.Preset`), and goes with each fill into the sidecar and the
    ``speckle_params`` tag (:meth:`config_hash`), so that two grain algorithms never share one
    provenance; a study changes it as a parameter (:meth:`replace`).

    - ``fill_sigma``: Gaussian width (px) of the low-pass that turns a fill into the hole's background.
    - ``background_sigma``, ``grain_inner``: the ring's background, against which its grain is measured:
      a Gaussian of ``background_sigma`` px with its central ``2 grain_inner + 1`` px square left out,
      so the grain keeps its own variance.
    - ``seam_band``: hidden pixels up to this distance (px) from known ones draw their grain conditioned
      on the real grain of the known pixels as close to the hole (:func:`sardip.speckle.condition_on_known`), with
      ``kriging_nugget`` added to its correlations (the real grain is not exactly the simulated speckle).
    - ``spread_sigma``, ``spread_reach``: the grain's spread varies in space: measured on the ring in
      Gaussian windows of ``spread_sigma`` px and carried into the hole by Gaussian weights of
      ``spread_reach`` times the hole's inradius, at least ``spread_sigma`` (:func:`sardip.speckle.grain_spread`; 0.5
      and 1 averaged the two sides of a ring too much).
    - ``response_scale``, ``max_response_spread``: in a resampled image (:mod:`sardip.resampling`) the
      simulated impulse response's width varies in space (relative) over a smooth random field of
      ``response_scale`` px (:func:`sardip.speckle.draw_gaussian`): a stationary draw left the real
      SEN12MS tile's hole windows more alike than its ring's, which the five-level co-occurrence
      detector finds. How much it varies is measured on each ring, up to ``max_response_spread``
      (:func:`sardip.speckle.estimate_response_spread`), no longer a constant chosen on that tile
      (docs/notes.md). In images without resampling the width stays fixed: there a varying width is
      itself found.
    """

    fill_sigma: float = 2.0
    background_sigma: float = 2.0
    grain_inner: int = 2
    seam_band: int = 3
    kriging_nugget: float = 0.01
    spread_sigma: float = 4.0
    spread_reach: float = 0.3
    max_response_spread: float = 0.4
    response_scale: float = 4.0

    def __post_init__(self) -> None:
        widths = (self.fill_sigma, self.background_sigma, self.spread_sigma, self.response_scale)
        if min(widths) <= 0 or self.grain_inner < 0 or self.seam_band < 0 or self.spread_reach < 0:
            raise ValueError(f"grain model {self}: widths must be > 0, the other sizes >= 0")
        if not 0 <= self.max_response_spread < 1 or self.kriging_nugget < 0:
            raise ValueError(f"grain model {self}: max_response_spread in [0, 1), kriging_nugget >= 0")

    def to_dict(self) -> dict:
        return asdict(self)

    def config_hash(self) -> str:
        """First 16 hex digits of the SHA-256 of the sorted-key JSON of :meth:`to_dict`."""
        return json_hash(self.to_dict())

    def replace(self, **changes: object) -> GrainModel:
        return replace(self, **changes)  # type: ignore[arg-type]


#: The grain model of the presets that add speckle: a DIP fit carries some of the scene's fine structure,
#: which a low-pass wider than 2 px erases (docs/notes.md); leave-one-burst-out cross-validation of the
#: ``credible`` DIP on the OPERA series keeps every value (bench/results/grain_cv_dip.md).
GRAIN = GrainModel()
#: The grain model of classic fills with ``--speckle``: their background is smooth already, and a wider
#: low-pass of it was chosen by leave-one-burst-out cross-validation on the OPERA series
#: (bench/bench_grain_cv.py, bench/results/grain_cv_gdal.md); the other values are the presets'.
CLASSIC_GRAIN = GRAIN.replace(fill_sigma=4.0)
