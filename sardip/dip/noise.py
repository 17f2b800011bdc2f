"""The DIP input ``Z``: a fixed random tensor per tile, optionally jittered at every iteration.

``uniform``: U(-4, 4) (the release draws U(0, 1) and rescales it to [-4, 4]); ``gaussian``: N(0, 1);
``rayleigh``: Rayleigh with scale 1, ``sqrt(-2 ln(1 - U))``. Each is then multiplied by
``noise_scale`` (0.1 in the release, so uniform noise lies in [-0.4, 0.4]). Jitter: at every
iteration the network sees ``Z + jitter * N(0, 1)``, a fresh draw from the tile's own generator.
"""

from __future__ import annotations

import torch

from sardip.dip.presets import NOISES


def make_noise(kind: str, shape: tuple[int, ...], scale: float, generator: torch.Generator) -> torch.Tensor:
    """One tile's input ``Z`` of ``shape`` (C, H, W) on the CPU, drawn from ``generator``."""
    if kind == "uniform":
        z = torch.rand(shape, generator=generator) * 8.0 - 4.0
    elif kind == "gaussian":
        z = torch.randn(shape, generator=generator)
    elif kind == "rayleigh":
        z = torch.sqrt(-2.0 * torch.log1p(-torch.rand(shape, generator=generator)))
    else:
        raise ValueError(f"unknown input noise {kind!r}; choose from {list(NOISES)}")
    return z * scale


def jitter(z: torch.Tensor, sigma: float, generators: list[torch.Generator]) -> torch.Tensor:
    """``Z + sigma * N(0, 1)`` for a batch ``z`` (B, C, H, W), tile ``b`` drawing from ``generators[b]``."""
    draws = [torch.randn(z.shape[1:], generator=g, device=z.device, dtype=z.dtype) for g in generators]
    return z + sigma * torch.stack(draws)
