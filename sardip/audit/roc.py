"""Ranking statistics shared by the audit's detectors and the learned detector's evaluation."""

from __future__ import annotations

import numpy as np
from scipy import stats


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(positive > negative) + P(tie) / 2 (Mann-Whitney U / (n_pos n_neg)); NaN values are dropped."""
    positive = positive[np.isfinite(positive)]
    negative = negative[np.isfinite(negative)]
    if positive.size == 0 or negative.size == 0:
        return float("nan")
    ranks = stats.rankdata(np.concatenate([positive, negative]))
    u = ranks[: positive.size].sum() - positive.size * (positive.size + 1) / 2
    return float(u / (positive.size * negative.size))
