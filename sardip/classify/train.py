"""Training a land-cover classifier on real SAR tiles (paper Section 4.4).

Cross-entropy on the tile labels (:mod:`sardip.classify.labels`), Adam (lr 1e-3, L2 weight decay
1e-5 as the paper states), early stopping on the validation loss. Every epoch appends a row to
``history.tsv``; the epoch with the lowest monitored loss so far is written to ``checkpoint.pt``.
Both are written atomically, so a killed job never leaves a half-written file.

Validation set behaviour: with any validation tile, the monitored loss is the validation loss (a
single validation tile works, it is just noisy). With none (``val_fraction = 0`` or a one-scene pool),
the validation columns of the history are NaN and the training loss is monitored instead, so the
checkpoint is the epoch that fits the training tiles best and ``patience`` still ends a stalled run.

The checkpoint is a dict of plain types plus tensors, loadable with ``torch.load(weights_only=True)``:
``format, model_name, classes, in_chans, input_size, normalisation {mean, std}, epoch, monitor,
monitor_value, settings, state_dict``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from sardip.classify.data import Normalisation, S1TileDataset, make_loader
from sardip.classify.models import build_model, model_spec
from sardip.classify.splits import pool_classes, training_pool
from sardip.io import atomic_path, read_table, write_table

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "sardip-classifier-1"
HISTORY_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
NORMALISATIONS = ("sen12ms", "pool")


@dataclass(frozen=True)
class TrainSettings:
    """Training settings; :meth:`from_dict` validates a config mapping and names a bad key.

    epochs: maximum number of passes over the training tiles.
    batch_size: tiles per optimiser step.
    input_size: side (px) tiles are resized to; at least the model's minimum (see :mod:`.models`).
    lr, weight_decay: Adam learning rate and L2 weight decay.
    patience: epochs without a lower monitored loss before stopping.
    seed: seeds weights, shuffling and the validation draw.
    num_workers: DataLoader reader processes (0: read in the main process).
    val_fraction: share of training-pool scenes held out for validation, in [0, 1).
    normalisation: ``sen12ms`` (the dataset's z-score stats) or ``pool`` (from up to 2000 training tiles).
    """

    epochs: int = 30
    batch_size: int = 32
    input_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 5
    seed: int = 0
    num_workers: int = 0
    val_fraction: float = 0.1
    normalisation: str = "sen12ms"

    def __post_init__(self) -> None:
        for key in ("epochs", "batch_size", "input_size", "patience"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"classify settings: {key} must be an integer >= 1, got {value!r}")
        for key in ("seed", "num_workers"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"classify settings: {key} must be an integer >= 0, got {value!r}")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"classify settings: lr must be > 0, got {self.lr!r}")
        if not (isinstance(self.weight_decay, int | float) and self.weight_decay >= 0):
            raise ValueError(f"classify settings: weight_decay must be >= 0, got {self.weight_decay!r}")
        if not (isinstance(self.val_fraction, int | float) and 0 <= self.val_fraction < 1):
            raise ValueError(f"classify settings: val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(
                f"classify settings: normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}"
            )

    @classmethod
    def from_dict(cls, values: Mapping) -> TrainSettings:
        """Settings from a config mapping; missing keys take the defaults, unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"classify settings: unknown keys {unknown}; known: {sorted(known)}")
        return cls(**dict(values))

    def check_model(self, model_name: str) -> None:
        """``ValueError`` when ``input_size`` is below the model's minimum (InceptionV3: 75 px)."""
        spec = model_spec(model_name)
        if self.input_size < spec.min_input_size:
            raise ValueError(
                f"classify settings: input_size {self.input_size} px is below the {spec.min_input_size} px "
                f"that {model_name} needs"
            )


def _run_epoch(
    model: torch.nn.Module, loader: DataLoader, device: str, optimiser: torch.optim.Optimizer | None, desc: str
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (fraction) over ``loader``; trains when an optimiser is given."""
    training = optimiser is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for x, y in tqdm(loader, desc=desc, leave=False, disable=None):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            if training:
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            total_loss += loss.item() * len(y)
            correct += int((logits.argmax(dim=1) == y).sum())
            seen += len(y)
    if seen == 0:
        return math.nan, math.nan
    return total_loss / seen, correct / seen


def _indices(table: pd.DataFrame, classes: Sequence[str], what: str) -> list[int]:
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted(set(table["label"]) - set(index))
    if unknown:
        raise ValueError(f"{what} tiles have labels {unknown} outside the classes {list(classes)}")
    return [index[label] for label in table["label"]]


def train_model(
    model_name: str,
    train: pd.DataFrame,
    val: pd.DataFrame,
    classes: Sequence[str],
    settings: TrainSettings | Mapping,
    out_dir: str | Path,
    device: str,
) -> pd.DataFrame:
    """Train ``model_name`` on ``train``, early-stopped on ``val``; write ``checkpoint.pt`` and ``history.tsv``.

    ``train`` and ``val`` have columns ``s1_path`` and ``label`` (class name, one of ``classes``);
    ``classes`` fixes the order of the network's outputs. Returns the history (one row per epoch run,
    losses as mean cross-entropy, accuracies as fractions, ``seconds`` per epoch).
    """
    if not isinstance(settings, TrainSettings):
        settings = TrainSettings.from_dict(settings)
    settings.check_model(model_name)
    if len(train) < 2:
        raise ValueError(f"training needs at least 2 tiles (batch normalisation), got {len(train)}")
    classes = list(classes)
    y_train, y_val = _indices(train, classes, "training"), _indices(val, classes, "validation")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.normalisation == "pool":
        norm = Normalisation.from_tiles(list(train["s1_path"]), seed=settings.seed)
    else:
        norm = Normalisation()
    log.info("normalisation (dB) mean %s std %s", norm.mean, norm.std)

    torch.manual_seed(settings.seed)
    model = build_model(model_name, len(classes)).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    train_set = S1TileDataset(list(train["s1_path"]), y_train, norm, settings.input_size)
    val_set = S1TileDataset(list(val["s1_path"]), y_val, norm, settings.input_size)
    # A last batch of one tile breaks batch normalisation in training mode; drop it (reshuffled every epoch).
    drop_last = len(train_set) % settings.batch_size == 1
    workers = settings.num_workers
    train_loader = make_loader(
        train_set, settings.batch_size, workers, device, shuffle=True, seed=settings.seed, drop_last=drop_last
    )
    val_loader = make_loader(val_set, settings.batch_size, workers, device)
    monitor = "val_loss" if len(val_set) else "train_loss"
    log.info(
        "training %s on %d tiles, validating on %d, %d classes %s, monitoring %s, device %s",
        model_name, len(train_set), len(val_set), len(classes), classes, monitor, device,
    )  # fmt: skip

    rows: list[dict] = []
    best, best_epoch, stale = math.inf, 0, 0
    for epoch in range(1, settings.epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc = _run_epoch(model, train_loader, device, optimiser, f"epoch {epoch} train")
        val_loss, val_acc = _run_epoch(model, val_loader, device, None, f"epoch {epoch} val")
        row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
               "val_acc": val_acc, "seconds": time.perf_counter() - start}  # fmt: skip
        rows.append(row)
        write_table(pd.DataFrame(rows, columns=HISTORY_COLUMNS), out_dir / "history.tsv")
        value = row[monitor]
        improved = best_epoch == 0 or (math.isfinite(value) and value < best)
        log.info(
            "%s epoch %d/%d: train loss %.4f acc %.3f, val loss %.4f acc %.3f, %.1f s%s",
            model_name, epoch, settings.epochs, train_loss, train_acc, val_loss, val_acc, row["seconds"],
            " (best so far)" if improved else "",
        )  # fmt: skip
        if improved:
            best, best_epoch, stale = (value if math.isfinite(value) else math.inf), epoch, 0
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "model_name": model_name,
                "classes": classes,
                "in_chans": 2,
                "input_size": settings.input_size,
                "normalisation": norm.as_dict(),
                "epoch": epoch,
                "monitor": monitor,
                "monitor_value": float(value),
                "settings": asdict(settings),
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            }
            with atomic_path(out_dir / "checkpoint.pt") as tmp:
                torch.save(checkpoint, tmp)
        else:
            stale += 1
            if stale >= settings.patience:
                log.info("%s: no lower %s for %d epochs, stopping at epoch %d", model_name, monitor, stale, epoch)
                break
    log.info("%s: best epoch %d, %s %.4f", model_name, best_epoch, monitor, best)
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def train_from_tables(
    inventory_path: str | Path,
    test_tiles_path: str | Path,
    model_name: str,
    settings: Mapping,
    out_dir: str | Path,
    device: str,
) -> pd.DataFrame:
    """Workflow entry point: split the inventory, train, and write the results under ``out_dir``.

    ``inventory_path``: the inventory table (:mod:`sardip.select`); ``test_tiles_path``: the tiles that
    passed the convergence filter (a table with ``tile_id``, optionally ``scene_id``). Writes
    ``pool.tsv`` (tile_id, scene_id, s1_path, label, subset = train/val: the exact split used),
    ``checkpoint.pt`` and ``history.tsv``; returns the history.
    """
    parsed = TrainSettings.from_dict(settings)
    parsed.check_model(model_name)
    inventory = read_table(inventory_path)
    test_tiles = read_table(test_tiles_path)
    train, val = training_pool(inventory, test_tiles, parsed.val_fraction, parsed.seed)
    pool = pd.concat([train.assign(subset="train"), val.assign(subset="val")], ignore_index=True)
    write_table(pool, Path(out_dir) / "pool.tsv")
    classes = pool_classes(train, val)
    return train_model(model_name, train, val, classes, parsed, out_dir, device)
