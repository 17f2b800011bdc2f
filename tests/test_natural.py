"""The verdict's natural range: reference boxes of the hidden area's shape in the untouched image, and
a false-alarm rate near the stated one (sardip.audit.natural)."""

from __future__ import annotations

import numpy as np
import pytest

from sardip.audit import DETECTORS, audit, roc_auc, verdict
from sardip.audit.detectors import missed_targets
from sardip.audit.localiser import DEFAULT_MODEL
from sardip.audit.natural import CALIBRATION, Calibration, box_aucs, natural_range, reference_offsets
from sardip.demo import correlated_speckle
from sardip.masks import ring_mask


def _box(shape: tuple[int, int], r: int, c: int, side: int) -> np.ndarray:
    hidden = np.zeros(shape, bool)
    hidden[r : r + side, c : c + side] = True
    return hidden


def _speckle_db(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.stack([10 * np.log10(correlated_speckle(rng, (size, size), 4, 0.8)) - 8 for _ in range(2)])


def test_reference_boxes_touch_no_forbidden_pixel_and_stay_in_the_image() -> None:
    hidden = _box((120, 140), 50, 60, 16)
    ring = ring_mask(hidden, np.ones_like(hidden))
    forbidden = hidden.copy()
    forbidden[:, :10] = True  # missing data along one edge
    offsets = reference_offsets(hidden | ring, forbidden)
    assert CALIBRATION.min_references <= len(offsets) <= CALIBRATION.references
    rows, cols = np.nonzero(hidden | ring)
    for dr, dc in offsets:
        assert rows.min() + dr >= 0 and rows.max() + dr < 120 and cols.min() + dc >= 0 and cols.max() + dc < 140
        assert not forbidden[rows + dr, cols + dc].any()


def test_no_reference_box_fits_where_the_area_fills_the_image() -> None:
    hidden = _box((60, 60), 10, 10, 40)
    ring = ring_mask(hidden, np.ones_like(hidden))
    assert len(reference_offsets(hidden | ring, hidden)) == 0


def test_box_aucs_are_the_aucs_of_the_moved_hole_and_ring(rng: np.random.Generator) -> None:
    statistic = rng.normal(size=(80, 90))
    statistic[::7] = 0.0  # ties
    hidden = _box((80, 90), 30, 40, 10)
    ring = ring_mask(hidden, np.ones_like(hidden))
    offsets = np.array([[-20, -30], [25, 20], [0, -35]])
    expected = [roc_auc(statistic[np.roll(hidden, o, (0, 1))], statistic[np.roll(ring, o, (0, 1))]) for o in offsets]
    assert box_aucs(statistic, hidden, ring, offsets) == pytest.approx(expected)


@pytest.mark.parametrize("name", list(DETECTORS))
def test_every_detector_scores_a_box_moved_by_nothing_as_the_hole_itself(rng: np.random.Generator, name: str) -> None:
    db = _speckle_db(rng, 96)[0]
    hidden = _box((96, 96), 40, 30, 20)
    ring = ring_mask(hidden, np.ones_like(hidden))
    detector = DETECTORS[name]
    prepared = detector.prepare(DEFAULT_MODEL, db) if detector.uses_model else detector.prepare(db)
    for w in detector.windows:
        auc, moved = detector.scores(prepared, hidden, ring, w, np.array([[0, 0], [-30, 10]]))
        assert moved[0] == pytest.approx(auc) and np.isfinite(moved[1])


def test_the_threshold_is_the_stated_quantile_of_the_references_largest_score(rng: np.random.Generator) -> None:
    references = rng.normal(0.6, 0.05, size=(400, 6))
    natural = natural_range(references, Calibration(false_alarm=0.1))
    largest = ((references - natural.median) / natural.spread).max(axis=1)
    assert np.mean(largest > natural.threshold) == pytest.approx(0.1, abs=0.005)
    assert natural.limits() == pytest.approx(natural.median + natural.threshold * natural.spread)
    assert natural.spread == pytest.approx(0.05, rel=0.15)


def test_untouched_areas_of_speckle_pass_about_as_often_as_stated() -> None:
    """16 random 12 px holes in untouched correlated speckle: at a 5 % false-alarm rate, at most 2 fail."""
    rng = np.random.default_rng(7)
    failed = 0
    for _ in range(16):
        image = _speckle_db(rng, 96)
        r, c = rng.integers(10, 74, size=2)
        checks = verdict(audit(image, image, _box((96, 96), r, c, 12)))
        assert (checks["natural_boxes"] >= CALIBRATION.min_references).all()
        failed += not checks["ok_auc"].all()
    assert failed <= 2


def test_a_blatant_fill_is_outside_the_natural_range(rng: np.random.Generator) -> None:
    image = _speckle_db(rng, 96)
    hidden = _box((96, 96), 40, 40, 16)
    result = np.where(hidden, np.median(image, axis=(1, 2), keepdims=True), image)
    checks = verdict(audit(image, result, hidden))
    assert not checks["ok_auc"].any() and (checks["auc_excess"] > 0.1).all()
    assert "the natural range of" in missed_targets(checks)[0]


def test_without_room_for_reference_boxes_the_verdict_falls_back_to_a_fixed_margin(rng: np.random.Generator) -> None:
    image = _speckle_db(rng, 48)
    hidden = _box((48, 48), 14, 14, 20)
    checks = verdict(audit(image, np.where(hidden, -8.0, image), hidden))
    assert (checks["natural_boxes"] < CALIBRATION.min_references).all() and checks["natural_false_alarm"].isna().all()
    assert checks["auc_limit"].to_list() == pytest.approx((checks["auc_original"] + 0.07).to_list())
    assert not checks["ok_auc"].any()
    assert "too few for a natural range" in missed_targets(checks)[0]
