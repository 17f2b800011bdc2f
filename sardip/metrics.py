"""Credibility metrics of an inpainted SAR tile against its original: SSIM, MS-SSIM, ENL and EPI.

The metrics know nothing of the DIP: they compare two co-registered images of shape ``(C, H, W)``
(float32, dB, one channel per polarisation) given ``hidden`` of shape ``(H, W)``, True inside the
inpainted area S. Three scenarios restrict every metric to a region:

* ``NIA`` (no inpainted area): pixels outside S;
* ``FI`` (full image): every pixel;
* ``OIA`` (only inpainted area): pixels inside S.

One rule defines "restricted to a region" for every metric: **a local measurement counts for a region
when everything it reads lies in the region** (the 11x11 SSIM window, the 3x3 Sobel stencil, the 25x25
ENL patch). NIA therefore depends on known pixels only (a result that differs from the original only
inside S scores NIA SSIM = 1 exactly), OIA on inpainted pixels only, and FI on the whole tile. Pixels
that are NaN in either image belong to no region.

Choices, also written into every output row (``method``, ``ms_ssim_scales``, ``ms_ssim_win``):

* SSIM / MS-SSIM (Wang et al. 2004 / 2003) run on ``u = (clip(dB, -25, 0) + 25) / 25`` in [0, 1] (the
  SEN12MS authors' normalisation), ``data_range = 1``, Gaussian window 11 px, sigma 1.5,
  ``K = (0.01, 0.03)``: pytorch-msssim's defaults, and the FI value equals ``pytorch_msssim.ssim`` /
  ``ms_ssim`` on the full tile. The clip is for the metrics only.
* MS-SSIM uses 2x2 average pooling between scales and the standard weights
  (0.0448, 0.2856, 0.3001, 0.2363, 0.1333). pytorch-msssim refuses images whose smaller side is
  <= 160 px; here the number of scales is the largest (<= 5) for which the region still holds one
  full 11x11 window at the coarsest scale, and the weights of the scales used are renormalised to sum
  to 1. The region is pooled with the images: a coarse pixel is in the region when all its children
  are. Per scale the contrast-structure (and, last, the SSIM) map is averaged over the windows that
  lie fully inside the pooled region.
* ENL = mean^2 / variance (population variance) of **linear intensity** ``10^(dB/10)`` per
  non-overlapping 25x25 patch lying fully inside the region, averaged over those patches. The patch grid
  starts at the region's bounding-box corner. When no patch fits (a hole smaller than 25 px), the
  whole region is one patch and ``fallback`` is True. For L-look intensity speckle ENL = L.
* EPI = sum |grad result| / sum |grad original| over the region: result over original, so 1 is
  perfect and a smoother result scores lower (the paper's printed Eq. 12 is inverted; see
  REFERENCE section 1). The gradient magnitude is that of the 3x3 Sobel operator on the **dB** values:
  in dB speckle is additive with constant variance, so every part of the tile weighs alike instead of
  a few bright scatterers dominating, and a radiometric gain cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional

from sardip.geotiff import read_pair
from sardip.masks import make_mask

#: Scenario names, in the order tables and figures use.
SCENARIOS: tuple[str, ...] = ("NIA", "FI", "OIA")
#: Metric names of the long per-tile table.
METRICS: tuple[str, ...] = ("ssim", "ms_ssim", "enl_original", "enl_result", "enl_rel_change", "epi")

#: dB interval mapped onto [0, 1] for SSIM / MS-SSIM (SEN12MS authors' clip).
DB_CLIP: tuple[float, float] = (-25.0, 0.0)
SSIM_WIN = 11
SSIM_SIGMA = 1.5
SSIM_K: tuple[float, float] = (0.01, 0.03)
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
ENL_PATCH = 25

_SSIM_METHOD = (
    f"Gaussian window {SSIM_WIN} px sigma {SSIM_SIGMA}, K={SSIM_K}, data_range 1 on (clip(dB,{DB_CLIP[0]:g},"
    f"{DB_CLIP[1]:g})+{-DB_CLIP[0]:g})/{DB_CLIP[1] - DB_CLIP[0]:g}; mean over windows fully inside the region"
)
_ENL_METHOD = (
    f"linear intensity 10^(dB/10); mean^2/var (ddof 0) per {ENL_PATCH}x{ENL_PATCH} patch fully inside the region "
    "(grid from the region's bounding box), averaged over patches; fallback: whole region as one patch"
)
#: Metric -> how it is computed (its definition); written into the ``method`` column of every row.
DEFINITIONS: dict[str, str] = {
    "ssim": _SSIM_METHOD,
    "ms_ssim": "per scale as ssim, 2x2 average pooling, standard weights renormalised over the scales used",
    "enl_original": _ENL_METHOD,
    "enl_result": _ENL_METHOD,
    "enl_rel_change": "(enl_result - enl_original) / enl_original, dimensionless",
    "epi": "sum|Sobel 3x3 of result| / sum|Sobel 3x3 of original| on dB, stencils fully inside the region",
}

#: Columns of :func:`tile_metrics`' table.
COLUMNS: tuple[str, ...] = (
    "band",
    "scenario",
    "metric",
    "value",
    "support",
    "fallback",
    "ms_ssim_scales",
    "ms_ssim_win",
    "method",
    "note",
)

#: Why a metric is NaN: what it needs of the region (the ``note`` column of :func:`tile_metrics`).
NAN_REASONS: dict[str, str] = {
    "ssim": f"the region holds no full {SSIM_WIN}x{SSIM_WIN} SSIM window",
    "ms_ssim": f"the region holds no full {SSIM_WIN}x{SSIM_WIN} SSIM window",
    "enl_original": "the region has fewer than 2 pixels or no intensity variance",
    "enl_result": "the region has fewer than 2 pixels or no intensity variance",
    "enl_rel_change": "an ENL of the region is NaN or 0",
    "epi": "the region holds no full 3x3 Sobel stencil, or the original has no gradient there",
}


def db_to_unit(db: np.ndarray) -> np.ndarray:
    """Map dB to [0, 1] for SSIM: ``(clip(dB, -25, 0) + 25) / 25``; NaN stays NaN."""
    low, high = DB_CLIP
    return (np.clip(db, low, high) - low) / (high - low)


def _windows_inside(region: np.ndarray, size: int) -> np.ndarray:
    """For each placement of a ``size`` x ``size`` window (valid positions, shape (H-size+1, W-size+1)),
    whether all its pixels lie in ``region`` (summed-area table)."""
    h, w = region.shape
    if h < size or w < size:
        return np.zeros((max(h - size + 1, 0), max(w - size + 1, 0)), dtype=bool)
    table = np.zeros((h + 1, w + 1), dtype=np.int64)
    table[1:, 1:] = region.astype(np.int64).cumsum(0).cumsum(1)
    counts = table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]
    return counts == size * size


def _gaussian_window() -> torch.Tensor:
    """1-D Gaussian of ``SSIM_WIN`` taps, sigma ``SSIM_SIGMA``, summing to 1 (pytorch-msssim's window)."""
    coords = torch.arange(SSIM_WIN, dtype=torch.float64) - SSIM_WIN // 2
    g = torch.exp(-(coords**2) / (2 * SSIM_SIGMA**2))
    return g / g.sum()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of a (1, 1, H, W) tensor -> (1, 1, H-10, W-10)."""
    x = functional.conv2d(x, g.view(1, 1, -1, 1))
    return functional.conv2d(x, g.view(1, 1, 1, -1))


def _ssim_maps(x: torch.Tensor, y: torch.Tensor, g: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """SSIM and contrast-structure maps (valid positions) of two (1, 1, H, W) images with data range 1.

    ``cs = (2 s_xy + C2) / (s_x^2 + s_y^2 + C2)``, ``ssim = (2 m_x m_y + C1) / (m_x^2 + m_y^2 + C1) * cs``
    with Gaussian-weighted local means ``m`` and (co)variances ``s``, ``C_i = K_i^2``.
    """
    c1, c2 = SSIM_K[0] ** 2, SSIM_K[1] ** 2
    mx, my = _blur(x, g), _blur(y, g)
    sxx = _blur(x * x, g) - mx * mx
    syy = _blur(y * y, g) - my * my
    sxy = _blur(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return ssim[0, 0].numpy(), cs[0, 0].numpy()


class _Pyramid:
    """SSIM / CS maps of one band at up to ``scales`` (five) scales, shared by the three scenarios."""

    def __init__(self, original: np.ndarray, result: np.ndarray, scales: int = len(MS_SSIM_WEIGHTS)) -> None:
        g = _gaussian_window()
        x = torch.from_numpy(db_to_unit(original).astype(np.float64))[None, None]
        y = torch.from_numpy(db_to_unit(result).astype(np.float64))[None, None]
        self.ssim: list[np.ndarray] = []
        self.cs: list[np.ndarray] = []
        self.pads: list[list[int]] = []
        for _ in MS_SSIM_WEIGHTS[:scales]:
            if min(x.shape[-2:]) < SSIM_WIN:
                break
            ssim, cs = _ssim_maps(x, y, g)
            self.ssim.append(ssim)
            self.cs.append(cs)
            pad = [s % 2 for s in x.shape[-2:]]
            self.pads.append(pad)
            x = functional.avg_pool2d(x, kernel_size=2, padding=pad)
            y = functional.avg_pool2d(y, kernel_size=2, padding=pad)

    def scores(self, region: np.ndarray) -> tuple[float, float, int, int]:
        """(SSIM, MS-SSIM, windows at full scale, scales used) over ``region`` (H, W) bool."""
        inside = [_windows_inside(region, SSIM_WIN)] if self.ssim else []
        support = int(inside[0].sum()) if inside else 0
        if support == 0:
            return float("nan"), float("nan"), 0, 0
        ssim = float(self.ssim[0][inside[0]].mean())
        outside = torch.from_numpy(~region)[None, None].to(torch.float64)
        for pad in self.pads[: len(self.ssim) - 1]:
            # max-pooling the complement (padding counts as -inf): coarse pixel in region iff all children are.
            outside = functional.max_pool2d(outside, kernel_size=2, padding=pad)
            level = _windows_inside(outside[0, 0].numpy() == 0, SSIM_WIN)
            if not level.any():
                break
            inside.append(level)
        scales = len(inside)
        weights = np.asarray(MS_SSIM_WEIGHTS[:scales]) / sum(MS_SSIM_WEIGHTS[:scales])
        terms = [max(float(self.cs[i][inside[i]].mean()), 0.0) for i in range(scales - 1)]
        terms.append(max(float(self.ssim[scales - 1][inside[-1]].mean()), 0.0))
        ms_ssim = float(np.prod(np.power(terms, weights)))
        return ssim, ms_ssim, support, scales


def enl(intensity: np.ndarray, region: np.ndarray, patch: int = ENL_PATCH) -> tuple[float, int, bool]:
    """Equivalent number of looks of linear ``intensity`` (H, W) over ``region`` (H, W) bool.

    ENL = mean^2 / var per non-overlapping ``patch`` x ``patch`` block lying fully inside ``region`` (grid
    anchored at the region's bounding-box corner), averaged over the blocks. Returns (ENL, number of
    patches, fallback); with no full patch the whole region is one patch and fallback is True. A region
    of fewer than 2 pixels, or whose intensity does not vary (variance 0), has no measurable ENL: NaN.
    """
    rows, cols = np.nonzero(region)
    if rows.size == 0:
        return float("nan"), 0, False
    r0, c0 = rows.min(), cols.min()
    nh, nw = (rows.max() + 1 - r0) // patch, (cols.max() + 1 - c0) // patch
    if nh and nw:
        window = (slice(r0, r0 + nh * patch), slice(c0, c0 + nw * patch))

        def blocks(a: np.ndarray) -> np.ndarray:
            return a[window].reshape(nh, patch, nw, patch).transpose(0, 2, 1, 3).reshape(nh * nw, patch * patch)

        full = blocks(region).all(axis=1)
        if full.any():
            kept = blocks(intensity)[full].astype(np.float64)
            return _mean_ratio(kept.mean(axis=1), kept.var(axis=1)), int(full.sum()), False
    values = intensity[region].astype(np.float64)
    if values.size < 2:
        return float("nan"), 1, True
    return _mean_ratio(values.mean(keepdims=True), values.var(keepdims=True)), 1, True


def _mean_ratio(mean: np.ndarray, var: np.ndarray) -> float:
    """Mean of ``mean^2 / var`` over the patches with ``var > 0``; NaN when none has any variance."""
    varies = var > 0
    return float(np.mean(mean[varies] ** 2 / var[varies])) if varies.any() else float("nan")


def sobel_magnitude(image: np.ndarray) -> np.ndarray:
    """Gradient magnitude ``sqrt(gx^2 + gy^2)`` of the 3x3 Sobel operator at valid positions, (H-2, W-2)."""
    a = image.astype(np.float64)
    gx = (a[:-2, 2:] + 2 * a[1:-1, 2:] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[1:-1, :-2] + a[2:, :-2])
    gy = (a[2:, :-2] + 2 * a[2:, 1:-1] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[:-2, 1:-1] + a[:-2, 2:])
    return np.hypot(gx, gy)


def epi(original: np.ndarray, result: np.ndarray, region: np.ndarray) -> tuple[float, int]:
    """Edge preservation index of ``result`` against ``original`` (both (H, W), dB) over ``region``.

    EPI = sum |grad result| / sum |grad original| over the Sobel stencils lying fully inside the region.
    Returns (EPI, number of stencils); NaN when no stencil fits or the original has no gradient there.
    """
    inside = _windows_inside(region, 3)
    support = int(inside.sum())
    denominator = sobel_magnitude(original)[inside].sum() if support else 0.0
    if denominator == 0:
        return float("nan"), support
    return float(sobel_magnitude(result)[inside].sum() / denominator), support


def _check_inputs(original: np.ndarray, result: np.ndarray, hidden: np.ndarray, bands: Sequence[str]) -> None:
    if original.ndim != 3 or original.shape != result.shape:
        raise ValueError(f"original {original.shape} and result {result.shape} must both be (C, H, W) alike")
    if hidden.shape != original.shape[1:]:
        raise ValueError(f"hidden mask {hidden.shape} does not match the images' (H, W) {original.shape[1:]}")
    if len(bands) != original.shape[0]:
        raise ValueError(f"{len(bands)} band names {tuple(bands)} for {original.shape[0]} image bands")


def nia_ssim(original: np.ndarray, result: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Per band, the NIA SSIM of ``result`` against ``original`` (both (C, H, W) dB, ``hidden`` (H, W)):
    the ``ssim`` / ``NIA`` value of :func:`tile_metrics`, without the other metrics. NaN for a band
    whose known pixels hold no full SSIM window."""
    original, result, hidden = np.asarray(original), np.asarray(result), np.asarray(hidden, dtype=bool)
    _check_inputs(original, result, hidden, [str(b) for b in range(original.shape[0])])
    scores = []
    for orig_b, res_b in zip(original, result, strict=True):
        region = np.isfinite(orig_b) & np.isfinite(res_b) & ~hidden
        scores.append(_Pyramid(orig_b, res_b, scales=1).scores(region)[0])
    return np.asarray(scores, dtype=float)


def tile_metrics(
    original: np.ndarray, result: np.ndarray, hidden: np.ndarray, bands: Sequence[str] = ("VV", "VH")
) -> pd.DataFrame:
    """Every metric of one tile, per band and scenario, as a long table (columns :data:`COLUMNS`).

    ``original`` and ``result`` are (C, H, W) dB arrays, ``hidden`` (H, W) bool, True inside S. Rows:
    band x scenario (NIA, FI, OIA) x metric (:data:`METRICS`). ``support`` counts the SSIM windows at
    full scale, the ENL patches or the EPI stencils used; ``fallback`` is True when ENL used the whole
    region as one patch; ``ms_ssim_scales`` and ``ms_ssim_win`` are set on ``ms_ssim`` rows only;
    ``note`` says why a value is NaN (:data:`NAN_REASONS`: the region is too small for the metric).
    """
    original = np.asarray(original)
    result = np.asarray(result)
    hidden = np.asarray(hidden, dtype=bool)
    _check_inputs(original, result, hidden, bands)
    scenario_masks = {"NIA": ~hidden, "FI": np.ones_like(hidden), "OIA": hidden}
    rows: list[dict] = []
    for band, orig_b, res_b in zip(bands, original, result, strict=True):
        valid = np.isfinite(orig_b) & np.isfinite(res_b)
        pyramid = _Pyramid(orig_b, res_b)
        intensity_orig, intensity_res = 10 ** (orig_b / 10), 10 ** (res_b / 10)
        for scenario in SCENARIOS:
            region = valid & scenario_masks[scenario]
            ssim, ms_ssim, windows, scales = pyramid.scores(region)
            enl_o, patches, fallback = enl(intensity_orig, region)
            enl_r, _, _ = enl(intensity_res, region)
            epi_value, stencils = epi(orig_b, res_b, region)
            values = {
                "ssim": (ssim, windows),
                "ms_ssim": (ms_ssim, windows),
                "enl_original": (enl_o, patches),
                "enl_result": (enl_r, patches),
                "enl_rel_change": ((enl_r - enl_o) / enl_o if enl_o else float("nan"), patches),
                "epi": (epi_value, stencils),
            }
            for metric, (value, support) in values.items():
                is_ms = metric == "ms_ssim"
                rows.append(
                    {
                        "band": band,
                        "scenario": scenario,
                        "metric": metric,
                        "value": value,
                        "support": support,
                        "fallback": fallback and metric.startswith("enl"),
                        "ms_ssim_scales": scales if is_ms else pd.NA,
                        "ms_ssim_win": SSIM_WIN if is_ms else pd.NA,
                        "method": DEFINITIONS[metric],
                        "note": "" if np.isfinite(value) else f"NaN: {NAN_REASONS[metric]}",
                    }
                )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"support": "int64", "fallback": bool, "ms_ssim_scales": "Int64", "ms_ssim_win": "Int64"})


def tile_metrics_files(
    original_path: str | Path,
    result_path: str | Path,
    mask_path_or_spec: str | Path,
    tile_id: str,
    land_cover: str,
    *,
    invert_mask: bool = False,
) -> pd.DataFrame:
    """:func:`tile_metrics` of two GeoTIFFs, with ``tile_id`` and ``land_cover`` columns in front.

    Both rasters are read in dB (linear power files are converted, see :func:`sardip.geotiff.to_db`).
    The mask is any :func:`sardip.masks.make_mask` spec on the original's grid: a raster file reads
    0 = hidden (the paper's M) unless ``invert_mask``. Raises ``ValueError`` naming both files when
    their grids, band counts or band names differ.
    """
    original, result = read_pair(original_path, result_path)
    bands = original.band_names
    if all(result.descriptions) and result.band_names != bands:
        raise ValueError(f"{original_path} has bands {bands} but {result_path} has {result.band_names}")
    hidden = make_mask(str(mask_path_or_spec), original.grid, invert=invert_mask)
    frame = tile_metrics(original.db(), result.db(), hidden, bands)
    frame.insert(0, "land_cover", land_cover)
    frame.insert(0, "tile_id", tile_id)
    return frame


def summarise(per_tile: pd.DataFrame) -> pd.DataFrame:
    """Per land-cover class, band, scenario and metric (and image, when the table has an ``image``
    column): mean, sample std (ddof 1) and n of the finite values.

    ``per_tile`` is the concatenation of :func:`tile_metrics_files` tables. NaN values (a region too
    small for a metric) are left out of mean, std and n; std is NaN for n = 1.
    """
    keys = ["image"] * ("image" in per_tile.columns) + ["land_cover", "band", "scenario", "metric"]
    values = per_tile.assign(value=pd.to_numeric(per_tile["value"]).replace([np.inf, -np.inf], np.nan))
    grouped = values.groupby(keys, sort=True)["value"]
    return grouped.agg(mean="mean", std="std", n="count").reset_index()
