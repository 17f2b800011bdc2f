"""Deep Image Prior engine: presets, the batched U-Net, masked losses, and the fit loop with checkpoints."""

from sardip.dip.engine import FitResult, fit
from sardip.dip.presets import PRESETS, Preset, PresetError, get_preset

__all__ = ["PRESETS", "FitResult", "Preset", "PresetError", "fit", "get_preset"]
