"""Semantic credibility (paper Section 4.4): land-cover classifiers trained on real SAR tiles, tested on DIP tiles.

Modules, lower to higher: :mod:`.labels` (tile label = mode of the LC map), :mod:`.splits` (training
and validation tiles, scene-disjoint from the test tiles), :mod:`.models` (timm registry),
:mod:`.data` (lazy normalised tile datasets), :mod:`.train`, :mod:`.evaluate`. The workflow calls
:func:`train_from_tables` and :func:`evaluate_from_tables`.
"""

from sardip.classify.data import Normalisation, S1TileDataset
from sardip.classify.evaluate import (
    OTHER,
    accuracy_per_class,
    confusion_table,
    evaluate_from_tables,
    load_checkpoint,
    predict,
    read_confusion,
    write_confusion,
)
from sardip.classify.labels import label_from_files, labels_from_inventory, tile_label
from sardip.classify.models import MODELS, build_model, model_label
from sardip.classify.splits import pool_classes, training_pool
from sardip.classify.train import TrainSettings, train_from_tables, train_model

__all__ = [
    "MODELS",
    "OTHER",
    "Normalisation",
    "S1TileDataset",
    "TrainSettings",
    "accuracy_per_class",
    "build_model",
    "confusion_table",
    "evaluate_from_tables",
    "label_from_files",
    "labels_from_inventory",
    "load_checkpoint",
    "model_label",
    "pool_classes",
    "predict",
    "read_confusion",
    "tile_label",
    "train_from_tables",
    "train_model",
    "training_pool",
    "write_confusion",
]
