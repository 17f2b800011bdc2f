"""The learned detector at inference: the localiser network, its weights, and its logit map of a band.

:func:`network` is a fully convolutional net (dilated 3x3 convolutions, receptive field
:data:`RECEPTIVE_FIELD` px) on one dB band, normalised by the band's own median and robust spread
(:func:`normalise`) so that it sees texture, not the absolute level. :func:`logits` is what the
audit's ``learned`` detector computes: the filled-or-real logit map of a band under the weights of a
given file, passed explicitly by every caller (the workflow makes it an input of the jobs that audit,
so retraining it reruns them). Training lives in :mod:`sardip.audit.learned`; torch is imported only
when a net is built or run.
"""

from __future__ import annotations

import pickle
from functools import cache
from pathlib import Path

import numpy as np

#: Where the shipped model lies (weights; its training record beside it as ``.json``).
DEFAULT_MODEL = Path(__file__).with_name("learned.pt")
#: Channels of every hidden layer, and the dilations of the 3x3 convolutions.
CHANNELS = 16
DILATIONS: tuple[int, ...] = (1, 2, 4, 8, 1)
RECEPTIVE_FIELD = 1 + 2 * sum(DILATIONS)


class ModelError(ValueError):
    """A detector model that cannot be read; the message names the file."""


def normalise(db: np.ndarray) -> np.ndarray:
    """A dB band (H, W) minus its median over its robust spread (1.4826 MAD): the net sees texture."""
    db = np.asarray(db, dtype=np.float64)
    median = np.median(db)
    spread = 1.4826 * np.median(np.abs(db - median))
    return ((db - median) / (spread if spread > 0 else 1.0)).astype(np.float32)


def network():
    """The localiser's layers (torch imported here: the rest of the audit runs without it)."""
    from torch import nn

    layers: list[nn.Module] = []
    width = 1
    for dilation in DILATIONS:
        layers += [
            nn.Conv2d(width, CHANNELS, 3, padding=dilation, dilation=dilation, padding_mode="reflect"),
            nn.ReLU(),
        ]
        width = CHANNELS
    layers.append(nn.Conv2d(width, 1, 1))
    return nn.Sequential(*layers)


def logit_map(net, db: np.ndarray) -> np.ndarray:
    """The net's filled-or-real logit (H, W) of one dB band, the band mirrored (edge pixels repeated)
    by half the receptive field on every side first. Run on the band alone, the net takes the pixels
    near the image's edge for real (trained holes seldom touch a crop's edge), so a ring near the edge
    made any hole look filled; mirrored texture is not quite natural either, but the gap is a fraction
    of it (tests/test_learned.py bounds it; the figures: docs/notes.md)."""
    import torch

    pad = RECEPTIVE_FIELD // 2
    x = np.pad(normalise(db), pad, mode="symmetric")
    with torch.no_grad():
        out = net(torch.from_numpy(x)[None, None])[0, 0].numpy()
    return out[pad:-pad, pad:-pad].astype(np.float64)


@cache
def load(path: Path):
    """The localiser of a weights file written by :func:`save`."""
    import torch

    if not path.is_file():
        raise ModelError(f"{path}: no detector model there (train one with bench/bench_learned.py)")
    net = network()
    try:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (RuntimeError, OSError, ValueError, pickle.UnpicklingError) as err:
        raise ModelError(f"{path}: not a weights file of this localiser ({err})") from err
    return net.eval()


def logits(model: str | Path, db: np.ndarray) -> np.ndarray:
    """The filled-or-real logit map (H, W) of a dB band under the weights at ``model`` (the audit
    averages it per window)."""
    return logit_map(load(Path(model).resolve()), db)
