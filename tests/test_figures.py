"""Every paper figure is written from tiny synthetic tables and GeoTIFFs, with classes missing or alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_tif
from scipy.ndimage import uniform_filter

from sardip.figures import fig04_progress, fig12_examples, fig14_ssim, fig15_enl, fig18_epi
from sardip.figures.images import first_kept_per_class
from sardip.metrics import tile_metrics

PNG = b"\x89PNG\r\n\x1a\n"
SIZE = 48


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG and path.stat().st_size > 5_000


def tile(rng: np.random.Generator) -> np.ndarray:
    intensity = rng.gamma(4.4, 1 / 4.4, size=(2, SIZE, SIZE)) * np.array([0.1, 0.02])[:, None, None]
    return (10 * np.log10(intensity)).astype(np.float32)


def hidden_area() -> np.ndarray:
    hidden = np.zeros((SIZE, SIZE), bool)
    hidden[12:40, 14:42] = True
    return hidden


def inpaint(image: np.ndarray) -> np.ndarray:
    result = image.copy()
    result[:, hidden_area()] = uniform_filter(image, size=(1, 5, 5))[:, hidden_area()]
    return result


@pytest.fixture
def per_tile(rng: np.random.Generator) -> pd.DataFrame:
    """Forest with 2 tiles, Urban with 1, one class outside the paper's seven, the rest missing."""
    frames = []
    for tile_id, land_cover in (("f1", "Forest"), ("f2", "Forest"), ("u1", "Urban"), ("x1", "Wetlands")):
        image = tile(rng)
        frame = tile_metrics(image, inpaint(image), hidden_area())
        frames.append(frame.assign(tile_id=tile_id, land_cover=land_cover))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def tifs(tmp_path: Path, rng: np.random.Generator) -> dict[str, Path]:
    image = tile(rng)
    known = (~hidden_area()).astype(np.uint8)[None]  # paper's M: 1 = known, 0 = hidden
    paths = {
        "original": write_tif(tmp_path / "original.tif", image),
        "result": write_tif(tmp_path / "result.tif", inpaint(image)),
        "mask": write_tif(tmp_path / "mask.tif", known),
    }
    for iteration, noise in ((0, 8.0), (500, 3.0), (1500, 1.0), (3000, 0.3)):
        noisy = (image + rng.normal(0, noise, image.shape)).astype(np.float32)
        paths[f"it{iteration}"] = write_tif(tmp_path / f"snapshot_{iteration}.tif", noisy)
    return paths


@pytest.mark.parametrize("figure", [fig14_ssim, fig15_enl, fig18_epi])
def test_score_figures(figure: Callable[[pd.DataFrame, Path], Path], per_tile: pd.DataFrame, tmp_path: Path) -> None:
    out = figure(per_tile, tmp_path / "figs" / f"{figure.__name__}.png")
    assert is_png(out)
    # one tile of one class only still draws
    assert is_png(figure(per_tile[per_tile["tile_id"] == "u1"], tmp_path / "one.png"))


def test_score_figure_refuses_foreign_table(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        fig18_epi(pd.DataFrame({"value": [1.0]}), tmp_path / "x.png")


def test_score_figures_draw_one_named_image(per_tile: pd.DataFrame, tmp_path: Path) -> None:
    """Each figure is of one image, named in it; a table of both images is refused, not averaged."""
    both = pd.concat([per_tile.assign(image="generated"), per_tile.assign(image="published")])
    with pytest.raises(ValueError, match="given measurements of the published image"):
        fig14_ssim(both, tmp_path / "x.png", "generated")
    with pytest.raises(ValueError, match="image 'composite'"):
        fig14_ssim(per_tile, tmp_path / "x.png", "composite")
    assert is_png(fig14_ssim(both[both["image"] == "published"], tmp_path / "p.png", "published"))


def test_fig04_progress(tifs: dict[str, Path], tmp_path: Path) -> None:
    snapshots = {it: tifs[f"it{it}"] for it in (3000, 0, 1500, 500)}
    assert is_png(fig04_progress(snapshots, tifs["original"], tifs["mask"], tmp_path / "fig04.png"))


def test_fig12_examples(tifs: dict[str, Path], tmp_path: Path) -> None:
    examples = [
        ("Forest", tifs["original"], tifs["mask"], tifs["result"]),
        ("Water", tifs["original"], "box:0,10,0,10", tifs["it3000"]),
    ]
    assert is_png(fig12_examples(examples, tmp_path / "fig12.png"))
    assert is_png(fig12_examples(examples[:1], tmp_path / "fig12_one.png"))


def test_fig12_refuses_mismatched_result(tifs: dict[str, Path], tmp_path: Path, rng: np.random.Generator) -> None:
    other = write_tif(tmp_path / "other.tif", tile(rng), crs="EPSG:32632")
    with pytest.raises(ValueError, match="not on the same grid"):
        fig12_examples([("Forest", tifs["original"], tifs["mask"], other)], tmp_path / "bad.png")


def test_first_kept_tile_of_each_class_is_the_example() -> None:
    kept = pd.DataFrame({"tile_id": ["u2", "f1", "u1"], "land_cover": ["Urban", "Forest", "Urban"]})
    tiles = ["f0", "f1", "u1", "u2"]  # f0 was dropped by the filter
    paths = [[f"{kind}/{t}.tif" for t in tiles] for kind in ("orig", "mask", "res")]
    examples = first_kept_per_class(kept, tiles, *paths)
    assert examples == [("Forest", "orig/f1.tif", "mask/f1.tif", "res/f1.tif"),
                        ("Urban", "orig/u1.tif", "mask/u1.tif", "res/u1.tif")]  # fmt: skip
