"""The learned detector: trained on classic fills it finds them on images it never saw; the shipped
model loads, finds an obvious fill and sees the image edge almost like its interior; a bad model file is refused
by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sardip.audit import DETECTORS, audit, learned, localiser
from sardip.cli import main
from sardip.demo import correlated_speckle
from sardip.geotiff import read_raster
from sardip.masks import release_box

REAL_S1 = Path(__file__).resolve().parent / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"


def _images(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    bands = [[10 * np.log10(correlated_speckle(rng, (64, 64), 4, 1.0)) - 8 for _ in range(2)] for _ in range(n)]
    return [np.stack(pair) for pair in bands]


def test_trained_on_classic_fills_it_finds_them_on_unseen_images(rng: np.random.Generator) -> None:
    torch.set_num_threads(1)
    train = _images(rng, 8)
    pool = learned.examples(train, [{}] * 8, [None] * 8, 24, seed=1)  # a quarter of them untouched
    assert {e.fill for e in pool} >= {"gdal", "constant", "untouched"}
    net, losses = learned.train(pool, 300, seed=1)
    assert np.mean(losses[-20:]) < np.mean(losses[:20])
    held = _images(rng, 3)
    hidden = release_box((64, 64))
    table = learned.heldout_auc(net, held, [hidden] * 3, ["gdal", "constant"], [{}] * 3, seed=2)
    means = table.groupby("fill")["auc"].mean()
    assert means["gdal"] > 0.85 and means["constant"] > 0.9
    assert means["untouched"] < 0.75, means.to_dict()


def test_the_shipped_model_is_in_the_registry_and_finds_a_constant_fill() -> None:
    assert "learned" in DETECTORS and localiser.DEFAULT_MODEL.is_file()
    image = read_raster(REAL_S1).db()
    hidden = release_box(image.shape[1:])
    result = np.where(hidden, np.nanmean(image, axis=(1, 2))[:, None, None], image)
    table = audit(image, result, hidden)
    rows = table[(table.metric == "auc_learned_max") & (table.band == "VV")].set_index("subject")["value"]
    assert rows["result"] > 0.9 and rows["original"] < 0.75


def test_a_bad_model_file_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not weights")
    with pytest.raises(localiser.ModelError, match=r"model\.pt"):
        localiser.logits(bad, np.zeros((16, 16)))
    assert main(["audit", str(REAL_S1), str(REAL_S1), "--mask", "release", "--detector-model", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_the_shipped_model_sees_the_image_edge_almost_like_its_interior(rng: np.random.Generator) -> None:
    """On untouched speckle the logit of the pixels within 5 px of the edge differs from the interior's by
    under a quarter of what it does when the net runs on the band unmirrored (1.4 there: a ring near
    the edge made any hole look filled; mirrored content near the edge still differs a little)."""
    band = 10 * np.log10(correlated_speckle(rng, (160, 160), 4, 1.0)) - 8
    rows, cols = np.mgrid[:160, :160]
    edge = np.minimum(np.minimum(rows, 159 - rows), np.minimum(cols, 159 - cols))
    with torch.no_grad():
        net = localiser.load(localiser.DEFAULT_MODEL)
        bare = net(torch.from_numpy(localiser.normalise(band))[None, None])[0, 0].numpy()

    def gap(logits: np.ndarray) -> float:
        return abs(float(logits[edge < 5].mean() - logits[edge >= 30].mean()))

    assert gap(bare) > 0.5
    assert gap(localiser.logits(localiser.DEFAULT_MODEL, band)) < 0.25 * gap(bare)
