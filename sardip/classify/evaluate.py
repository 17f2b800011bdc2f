"""Evaluating a trained classifier on the test tiles: originals against their DIP versions.

The semantic credibility check of the paper (Section 4.4, Figs. 20-23): a classifier trained on real
tiles should label a DIP tile as it labels the original. The paper tests on "DIP-generated" tiles,
the network output over the whole tile (that is how its Water accuracy can fall from 97.5 % to 5 %);
the published composite differs from the original inside the hidden area only. Both are classified
(:mod:`sardip.tile_images`). Tables produced here:

- predictions: one row per test tile, its true class and the class predicted for each version;
- accuracy per class (%), one block of rows per image: on originals, on that image, and ``|delta|``
  between them;
- confusion tables, one per version: rows the paper's 7 true classes, columns the 7 plus ``Other``
  (any prediction outside the 7: the classifiers learn every DFC2020 class of their training pool),
  each row in % of that class's tiles so it sums to 100. A class without test tiles has a row of NaN
  (no percentage exists), and so NaN accuracies. Tiles whose true class is outside ``classes`` belong
  to no row and are left out of both tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sardip.classes import PAPER_CLASSES
from sardip.classify.data import Normalisation, S1TileDataset, make_loader
from sardip.classify.models import build_model
from sardip.classify.train import CHECKPOINT_FORMAT
from sardip.io import atomic_path
from sardip.tile_images import IMAGES, check_image

OTHER = "Other"
CHECKPOINT_KEYS = ("format", "model_name", "classes", "in_chans", "input_size", "normalisation", "state_dict")
#: Columns every test table has; it also has an ``<image>_path`` column per image classified.
TEST_COLUMNS = ("tile_id", "class", "original_path")
#: Columns of the accuracy table.
ACCURACY_COLUMNS = ("image", "class", "n_tiles", "acc_original", "acc_result", "abs_delta")


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
    pred_result: Sequence[str],
    classes: Sequence[str] = PAPER_CLASSES,
) -> pd.DataFrame:
    """Per class: ``n_tiles``, accuracy (%) on originals and on the DIP versions (``acc_result``), and
    ``abs_delta`` = |difference|.

    Accuracy of a class = share of its tiles predicted as that class (the confusion diagonal).
    """
    original = confusion_table(true, pred_original, classes)
    result = confusion_table(true, pred_result, classes)
    n_tiles = pd.Series(list(true)).value_counts().reindex(list(classes), fill_value=0)
    acc_original = np.array([original.loc[c, c] for c in classes], dtype=float)
    acc_result = np.array([result.loc[c, c] for c in classes], dtype=float)
    return pd.DataFrame(
        {
            "class": list(classes),
            "n_tiles": n_tiles.to_numpy(dtype=int),
            "acc_original": acc_original,
            "acc_result": acc_result,
            "abs_delta": np.abs(acc_original - acc_result),
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


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate_from_tables` finds: ``predictions`` (``tile_id, class, pred_original`` and a
    ``pred_<image>`` column per image), ``accuracy`` (:data:`ACCURACY_COLUMNS`: :func:`accuracy_per_class`
    per image, its name in ``image``) and ``confusion``, a :func:`confusion_table` per version
    (``original`` and each image)."""

    predictions: pd.DataFrame
    accuracy: pd.DataFrame
    confusion: dict[str, pd.DataFrame]


def evaluate_from_tables(
    checkpoint_path: str | Path,
    test_table: pd.DataFrame,
    device: str,
    images: Sequence[str] = IMAGES,
    batch_size: int = 32,
) -> Evaluation:
    """Workflow entry point: classify every test tile's original and each of its DIP ``images``.

    ``test_table`` has the columns :data:`TEST_COLUMNS` (class: the tile's true DFC2020 class) and an
    ``<image>_path`` column per image.
    """
    missing = [c for c in (*TEST_COLUMNS, *(f"{check_image(i)}_path" for i in images)) if c not in test_table.columns]
    if missing:
        raise ValueError(f"test table lacks columns {missing}")
    true = list(test_table["class"])
    versions = ("original", *images)
    predicted = {v: predict(checkpoint_path, list(test_table[f"{v}_path"]), device, batch_size) for v in versions}
    predictions = pd.DataFrame(
        {"tile_id": list(test_table["tile_id"]), "class": true, **{f"pred_{v}": p for v, p in predicted.items()}}
    )
    accuracy = pd.concat(
        [accuracy_per_class(true, predicted["original"], predicted[i]).assign(image=i) for i in images],
        ignore_index=True,
    )[list(ACCURACY_COLUMNS)]
    return Evaluation(predictions, accuracy, {v: confusion_table(true, p) for v, p in predicted.items()})
