"""Evaluating a trained classifier on the test tiles: originals against their DIP versions.

The semantic credibility check of the paper (Section 4.4, Figs. 20-23): a classifier trained on real
tiles should label an inpainted tile as it labels the original. Tables produced here:

- predictions: one row per test tile, its true class and the class predicted for each version;
- accuracy per class (%): on originals, on inpainted tiles, and ``|delta|`` between them;
- confusion tables: rows the paper's 7 true classes, columns the 7 plus ``Other`` (any prediction
  outside the 7: the classifiers learn every DFC2020 class of their training pool), each row in %
  of that class's tiles so it sums to 100. A class without test tiles has a row of NaN (no
  percentage exists), and so NaN accuracies. Tiles whose true class is outside ``classes`` belong
  to no row and are left out of both tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sardip.classes import PAPER_CLASSES
from sardip.classify.data import Normalisation, S1TileDataset, make_loader
from sardip.classify.models import build_model
from sardip.classify.train import CHECKPOINT_FORMAT
from sardip.io import atomic_path

OTHER = "Other"
CHECKPOINT_KEYS = ("format", "model_name", "classes", "in_chans", "input_size", "normalisation", "state_dict")
TEST_COLUMNS = ("tile_id", "class", "original_path", "inpainted_path")


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by :func:`sardip.classify.train.train_model`, loaded with ``weights_only=True``."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    missing = [k for k in CHECKPOINT_KEYS if k not in checkpoint]
    if missing or checkpoint["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint (missing {missing})")
    return checkpoint


def load_classifier(path: str | Path, device: str) -> tuple[torch.nn.Module, dict]:
    """The network of a checkpoint in eval mode on ``device``, and the checkpoint's metadata."""
    checkpoint = load_checkpoint(path)
    model = build_model(checkpoint["model_name"], len(checkpoint["classes"]), checkpoint["in_chans"])
    model.load_state_dict(checkpoint["state_dict"])
    meta = {k: v for k, v in checkpoint.items() if k != "state_dict"}
    return model.to(device).eval(), meta


@torch.no_grad()
def predict(
    checkpoint_path: str | Path, s1_paths: Sequence[str | Path], device: str, batch_size: int = 32
) -> list[str]:
    """Predicted class name of each S1 tile (2-band dB GeoTIFF), prepared as in training."""
    model, meta = load_classifier(checkpoint_path, device)
    dataset = S1TileDataset(s1_paths, None, Normalisation.from_dict(meta["normalisation"]), int(meta["input_size"]))
    predicted: list[str] = []
    for x, _ in make_loader(dataset, batch_size, 0, device):
        index = model(x.to(device)).argmax(dim=1).cpu().tolist()
        predicted.extend(meta["classes"][i] for i in index)
    return predicted


def confusion_table(true: Sequence[str], pred: Sequence[str], classes: Sequence[str] = PAPER_CLASSES) -> pd.DataFrame:
    """Row-normalised confusion matrix in %: rows true ``classes``, columns ``classes`` + ``Other``.

    Each row sums to 100, or is all NaN when the class has no tile (see the module docstring).
    """
    if len(true) != len(pred):
        raise ValueError(f"{len(true)} true labels but {len(pred)} predictions")
    columns = [*classes, OTHER]
    frame = pd.DataFrame({"true": list(true), "predicted": list(pred)})
    frame = frame[frame["true"].isin(classes)]
    frame["predicted"] = frame["predicted"].where(frame["predicted"].isin(classes), OTHER)
    counts = pd.crosstab(frame["true"], frame["predicted"]).reindex(index=list(classes), columns=columns, fill_value=0)
    totals = counts.sum(axis=1).replace(0, np.nan)
    table = counts.div(totals, axis=0) * 100.0
    table.index.name, table.columns.name = "true", "predicted"
    return table.astype(float)


def accuracy_per_class(
    true: Sequence[str],
    pred_original: Sequence[str],
    pred_inpainted: Sequence[str],
    classes: Sequence[str] = PAPER_CLASSES,
) -> pd.DataFrame:
    """Per class: ``n_tiles``, accuracy (%) on originals and on inpainted tiles, and ``abs_delta`` = |difference|.

    Accuracy of a class = share of its tiles predicted as that class (the confusion diagonal).
    """
    original = confusion_table(true, pred_original, classes)
    inpainted = confusion_table(true, pred_inpainted, classes)
    n_tiles = pd.Series(list(true)).value_counts().reindex(list(classes), fill_value=0)
    acc_original = np.array([original.loc[c, c] for c in classes], dtype=float)
    acc_inpainted = np.array([inpainted.loc[c, c] for c in classes], dtype=float)
    return pd.DataFrame(
        {
            "class": list(classes),
            "n_tiles": n_tiles.to_numpy(dtype=int),
            "acc_original": acc_original,
            "acc_inpainted": acc_inpainted,
            "abs_delta": np.abs(acc_original - acc_inpainted),
        }
    )


def write_confusion(table: pd.DataFrame, path: str | Path) -> None:
    """Write a confusion table as CSV with class names as row (``true``) and column labels, atomically."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, float_format="%.4f")


def read_confusion(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_confusion`."""
    table = pd.read_csv(path, index_col=0)
    table.columns.name = "predicted"
    return table


def evaluate_from_tables(
    checkpoint_path: str | Path, test_table: pd.DataFrame, device: str, batch_size: int = 32
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Workflow entry point: classify every test tile's original and inpainted version.

    ``test_table`` has columns ``tile_id, class, original_path, inpainted_path`` (class: the tile's
    true DFC2020 class). Returns (predictions with columns ``tile_id, class, pred_original,
    pred_inpainted``; :func:`accuracy_per_class`; confusion on originals; confusion on inpainted tiles).
    """
    missing = [c for c in TEST_COLUMNS if c not in test_table.columns]
    if missing:
        raise ValueError(f"test table lacks columns {missing}")
    true = list(test_table["class"])
    pred_original = predict(checkpoint_path, list(test_table["original_path"]), device, batch_size)
    pred_inpainted = predict(checkpoint_path, list(test_table["inpainted_path"]), device, batch_size)
    predictions = pd.DataFrame(
        {
            "tile_id": list(test_table["tile_id"]),
            "class": true,
            "pred_original": pred_original,
            "pred_inpainted": pred_inpainted,
        }
    )
    return (
        predictions,
        accuracy_per_class(true, pred_original, pred_inpainted),
        confusion_table(true, pred_original),
        confusion_table(true, pred_inpainted),
    )
