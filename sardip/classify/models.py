"""The classifier registry: timm networks for 2-band (VV, VH) tiles, always randomly initialised.

The paper compares ResNet50, InceptionV3 and EfficientNetB0 (Section 4.4). timm builds each with
``in_chans=2`` (it adapts the first convolution) and a ``num_classes`` head; ``pretrained=False``
always, since ImageNet weights would need a download and were learnt on optical RGB, not SAR.

Minimum input size (square, px): InceptionV3 uses unpadded stride-2 convolutions and fails below
75 px (checked: 74 px raises, 75 px runs). ResNet50 and EfficientNetB0 pad every convolution and so
run at any size, but their total stride is 32: below 32 px the last stage sees a single padded
pixel, so 32 px is the floor enforced here. Any other name timm knows is accepted with the same
32 px floor, for experiments; the three above are the supported, tested choices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import timm
import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """A supported classifier: its label in figures and the smallest input side it accepts (px)."""

    label: str
    min_input_size: int


#: The supported classifiers, by timm name.
MODELS: dict[str, ModelSpec] = {
    "resnet50": ModelSpec("ResNet50", 32),
    "inception_v3": ModelSpec("InceptionV3", 75),
    "efficientnet_b0": ModelSpec("EfficientNetB0", 32),
}
#: Floor for timm models outside the registry (see the module docstring).
DEFAULT_MIN_INPUT_SIZE = 32


def model_spec(name: str) -> ModelSpec:
    """Spec of a model name: the registry's, or a generic one for another timm model.

    ``ValueError`` listing the supported choices when timm does not know the name.
    """
    if name in MODELS:
        return MODELS[name]
    if timm.is_model(name):
        return ModelSpec(name, DEFAULT_MIN_INPUT_SIZE)
    raise ValueError(f"unknown classifier {name!r}; choose from {sorted(MODELS)} (or any name in timm.list_models())")


def model_label(name: str) -> str:
    """Readable name of a model for figures (``resnet50`` -> ``ResNet50``)."""
    return MODELS[name].label if name in MODELS else name


def build_model(name: str, num_classes: int, in_chans: int = 2) -> torch.nn.Module:
    """A randomly initialised timm classifier: input ``(N, in_chans, H, W)``, output logits ``(N, num_classes)``."""
    model_spec(name)
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if name not in MODELS:
        log.warning("classifier %s is not one of the supported %s; using it as timm builds it", name, sorted(MODELS))
    return timm.create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_chans)
