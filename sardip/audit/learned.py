"""Training the learned adversary: a small CNN localiser fitted to the audit's own fills.

A forensic analyst with our code can do what the SAR splicing localisers do (Cannas et al., IEEE
Access 2022): train a network that maps each pixel to filled-or-real on fills of every kind, and run
it blind on a published scene. The network and its use at inference are
:mod:`sardip.audit.localiser`'s; this module makes the examples and trains it.

:func:`examples` builds training pairs (band, hidden mask) from images: every classic method of
:data:`sardip.fill.METHODS` with and without speckle-consistent filling on random boxes and ellipses,
fills given as network outputs (the DIP at several iteration counts, as :func:`examples` receives
them) pasted with and without speckle, and untouched bands (all real). :func:`train` fits the net with
a class-balanced binary cross-entropy; :func:`heldout_auc` reports, per fill, the ROC AUC of the
filled against the ring's pixels on images the net never saw. :func:`save` writes the weights with
their training record; the audit's ``learned`` detector reads such a file
(:func:`sardip.audit.localiser.logits`), by default the one shipped in the package
(:data:`sardip.audit.localiser.DEFAULT_MODEL`, trained by ``bench/bench_learned.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sardip.audit.localiser import logit_map, network, normalise
from sardip.audit.roc import roc_auc

#: Classic fills the examples draw from (``dip`` comes as network outputs).
CLASSIC = ("gdal", "biharmonic", "telea", "navier-stokes", "constant")
#: Share of untouched examples (nothing hidden), so that the net learns what real speckle looks like.
UNTOUCHED_SHARE = 0.25


def random_hole(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A box or an ellipse of random size (side 6 px to half the shorter side) and place: an image twice
    the release hole's side holds holes as deep as it, whose interiors lie beyond the net's field."""
    h, w = shape
    side = int(rng.integers(6, max(7, min(h, w) // 2 + 1)))
    rows, cols = side, int(np.clip(side * rng.uniform(0.6, 1.6), 6, w // 2))
    r0 = int(rng.integers(side // 2, h - rows - side // 2 + 1))
    c0 = int(rng.integers(side // 2, w - cols - side // 2 + 1))
    hidden = np.zeros(shape, bool)
    if rng.random() < 0.5:
        hidden[r0 : r0 + rows, c0 : c0 + cols] = True
        return hidden
    y, x = np.mgrid[:h, :w]
    return ((y - r0 - rows / 2) / (rows / 2)) ** 2 + ((x - c0 - cols / 2) / (cols / 2)) ** 2 <= 1


@dataclass(frozen=True)
class Example:
    """One training or evaluation pair: a normalised band (H, W), what was hidden, and the fill's name."""

    band: np.ndarray
    hidden: np.ndarray
    fill: str


def fill_names(networks: Iterable[str]) -> list[str]:
    """The classic fills and the named network outputs, each without and with speckle."""
    from sardip.fill import SPECKLE_SUFFIX

    return [f"{name}{suffix}" for name in (*CLASSIC, *networks) for suffix in ("", SPECKLE_SUFFIX)]


def _source(fill: str) -> str:
    """A fill's name without its speckle suffix: a classic method or a network output."""
    from sardip.fill import SPECKLE_SUFFIX

    return fill.removesuffix(SPECKLE_SUFFIX)


def filled(
    image: np.ndarray, hidden: np.ndarray, fill: str, networks: Mapping[str, np.ndarray], seed: int
) -> np.ndarray:
    """``image`` (C, H, W) dB with ``hidden`` filled by ``fill``: a classic method or a network output of
    ``networks`` (name -> (C, H, W) dB), ``+speckle`` for speckle-consistent filling."""
    from sardip.fill import classic_fill, parse_variant, paste_db

    name = _source(fill)
    speckle = name != fill
    if name in networks:
        source = networks[name]
    else:
        method, _ = parse_variant(name)
        source = classic_fill(method.name, image, hidden)
    return paste_db(image, source, hidden, speckle=speckle, seed=seed).db


def examples(
    images: Sequence[np.ndarray],
    networks: Sequence[Mapping[str, np.ndarray]],
    holes: Sequence[np.ndarray | None],
    per_image: int,
    seed: int,
) -> list[Example]:
    """``per_image`` examples per image (C, H, W dB): a random fill of :func:`fill_names` on a random
    hole (the image's own ``holes[i]`` for network outputs, which were fitted to it), one band each;
    a :data:`UNTOUCHED_SHARE` of them untouched."""
    rng = np.random.default_rng(seed)
    out: list[Example] = []
    for image, nets, own in zip(images, networks, holes, strict=True):
        names = fill_names(nets)
        for _ in range(per_image):
            band = int(rng.integers(image.shape[0]))
            if rng.random() < UNTOUCHED_SHARE:
                out.append(Example(normalise(image[band]), np.zeros(image.shape[1:], bool), "untouched"))
                continue
            fill = names[int(rng.integers(len(names)))]
            is_network = _source(fill) in nets
            hidden = own if is_network else random_hole(rng, image.shape[1:])
            result = filled(image, hidden, fill, nets, int(rng.integers(2**31)))
            out.append(Example(normalise(result[band]), hidden, fill))
    return out


def _batch(pool: Sequence[Example], rng: np.random.Generator, size: int, crop: int):
    """Random crops of ``crop`` px with random flips and quarter turns, as torch tensors."""
    import torch

    xs, ys = [], []
    for i in rng.integers(len(pool), size=size):
        ex = pool[int(i)]
        h, w = ex.band.shape
        r, c = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        x, y = ex.band[r : r + crop, c : c + crop], ex.hidden[r : r + crop, c : c + crop]
        k = int(rng.integers(4))
        x, y = np.rot90(x, k), np.rot90(y, k)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        xs.append(np.ascontiguousarray(x))
        ys.append(np.ascontiguousarray(y))
    return torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(ys)[:, None].astype(np.float32))


def train(pool: Sequence[Example], steps: int, seed: int, *, batch: int = 16, crop: int = 64, device: str = "cpu"):
    """The localiser fitted to ``pool`` for ``steps`` Adam steps (class-balanced BCE); returns it and the
    loss per step. ``crop`` is clipped to the smallest example."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    crop = min(crop, *(min(e.band.shape) for e in pool))
    net = network().to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    share = float(np.mean([e.hidden.mean() for e in pool]))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((1 - share) / max(share, 1e-3), device=device))
    losses = []
    for step in range(steps):
        if step == int(0.7 * steps):
            for group in optimiser.param_groups:
                group["lr"] = 1e-3
        x, y = _batch(pool, rng, batch, crop)
        loss = loss_fn(net(x.to(device)), y.to(device))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return net.cpu().eval(), losses


def heldout_auc(net, images: Sequence[np.ndarray], holes: Sequence[np.ndarray], fills: Iterable[str],
                networks: Sequence[Mapping[str, np.ndarray]], seed: int) -> pd.DataFrame:  # fmt: skip
    """Per image, band and fill: the one-sided ROC AUC of the net's logit at the filled pixels against the
    ring's (:func:`sardip.masks.ring_mask`), fills made on ``holes[i]``; ``untouched`` scores the
    unedited image with the same hole."""
    from sardip.masks import ring_mask

    rows = []
    for index, (image, hidden, nets) in enumerate(zip(images, holes, networks, strict=True)):
        ring = ring_mask(hidden, np.ones_like(hidden))
        for fill in ["untouched", *fills]:
            if _source(fill) not in (*CLASSIC, *nets) and fill != "untouched":
                continue
            result = image if fill == "untouched" else filled(image, hidden, fill, nets, seed + index)
            for band in range(image.shape[0]):
                score = logit_map(net, result[band])
                rows.append({"image": index, "band": band, "fill": fill, "auc": roc_auc(score[hidden], score[ring])})
    return pd.DataFrame(rows, columns=["image", "band", "fill", "auc"])


def save(net, path: str | Path, record: Mapping) -> None:
    """The weights at ``path`` and ``record`` (how it was trained, held-out AUCs) beside it as JSON."""
    import torch

    path = Path(path)
    torch.save(net.state_dict(), path)
    path.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")


def scene_of(tile_id: str) -> str:
    """The scene a tile id belongs to (``ROIs1158_spring_s1_1_p30`` -> ``ROIs1158_spring_s1_1``)."""
    return tile_id.rsplit("_p", 1)[0]


def train_on_tiles(
    tiles: Mapping[str, tuple[str | Path, str | Path, Mapping[int, str | Path]]],
    steps: int,
    per_image: int,
    seed: int,
    device: str = "cpu",
) -> tuple[object, dict, pd.DataFrame]:
    """The workflow's detector training: ``tiles`` maps a tile id to (S1 GeoTIFF, mask raster, iterations ->
    DIP snapshot GeoTIFF). Scenes alternate (sorted) between training and held out, so the held-out
    AUCs come from scenes the net never saw; each tile's DIP snapshots are fills on its own mask.
    Returns the net, its training record and the held-out AUC per tile, band and fill."""
    from sardip.geotiff import read_raster
    from sardip.masks import make_mask

    scenes = sorted({scene_of(t) for t in tiles})
    held = set(scenes[1::2]) if len(scenes) > 1 else set()
    data: dict[str, list] = {"train": [[], [], []], "held": [[], [], []]}
    for tile_id, (s1, mask, snapshots) in sorted(tiles.items()):
        raster = read_raster(s1)
        hidden = make_mask(str(mask), raster.grid)
        nets = {f"dip@{it}": read_raster(p, units=raster.units).db() for it, p in sorted(snapshots.items())}
        part = data["held" if scene_of(tile_id) in held else "train"]
        for column, value in zip(part, (raster.db(), nets, hidden), strict=True):
            column.append(value)
    images, nets, holes = data["train"]
    pool = examples(images, nets, holes, per_image, seed)
    net, losses = train(pool, steps, seed, device=device)
    held_images, held_nets, held_holes = data["held"]
    fills = fill_names(sorted({name for nets in held_nets for name in nets}))
    table = heldout_auc(net, held_images, held_holes, fills, held_nets, seed)
    record = {"steps": steps, "examples": len(pool), "train_scenes": sorted(set(scenes) - held),
              "heldout_scenes": sorted(held), "seed": seed, "device": device,
              "loss_first": float(np.mean(losses[:20])), "loss_last": float(np.mean(losses[-20:]))}  # fmt: skip
    return net, record, table
