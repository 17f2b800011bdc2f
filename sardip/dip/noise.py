"""The DIP input ``Z``: a fixed random tensor per tile, optionally jittered at every iteration.

``uniform``: U(-4, 4) (the release draws U(0, 1) and rescales it to [-4, 4]); ``gaussian``: N(0, 1);
``rayleigh``: Rayleigh with scale 1, ``sqrt(-2 ln(1 - U))``. Each is then multiplied by
``noise_scale`` (0.1 in the release, so uniform noise lies in [-0.4, 0.4]). Jitter: at every
iteration the network sees ``Z + jitter * N(0, 1)``, a fresh draw for each tile, made one of two ways:

- :func:`jitter`: from the tile's own ``torch.Generator``, one draw (one kernel launch) per tile;
- :func:`batched_jitter`: every tile at once, in one chain of element-wise operations, from a
  counter-based hash of (tile key, iteration, element): ``h(x) = x ^ x >> 16`` after two rounds of
  ``(x ^ x >> 16) * 0x45D9F3B mod 2^32`` (Mueller's 32-bit integer hash, products below 2^59 so int64
  never overflows), two such uniforms per element, Box-Muller. A tile's draws depend only on its key
  and the iteration, never on its batch mates; the state is the iteration count, so no generator has
  to be saved, and nothing of it leaves the device (a precondition of capturing a whole iteration in
  a CUDA graph). It is a different random stream from :func:`jitter`'s, so a fit with it gives other,
  statistically alike, results. On a 2-core CPU it costs about 60 ms per iteration for 8 tiles of
  256 px (the generators take 6 ms); on a GPU it replaces B launches by a few.
"""

from __future__ import annotations

import math

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


_M32 = 0xFFFFFFFF
_MIX = 0x45D9F3B


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """Mueller's 32-bit integer hash of int64 values in [0, 2^32), element-wise."""
    x = ((x ^ (x >> 16)) * _MIX) & _M32
    x = ((x ^ (x >> 16)) * _MIX) & _M32
    return x ^ (x >> 16)


def tile_keys(seeds: list[int], device: torch.device | str) -> torch.Tensor:
    """The 32-bit hash keys (B,) of :func:`batched_jitter` for the tiles' seeds."""
    return _hash32(torch.tensor([int(s) & _M32 for s in seeds], dtype=torch.int64, device=device))


def batched_jitter(z: torch.Tensor, sigma: float, keys: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """``Z + sigma * N(0, 1)`` for a batch ``z`` (B, C, H, W): tile ``b``'s normals hash from ``keys[b]``
    and ``step`` (a 0-d int64 tensor on ``z``'s device, the iteration)."""
    B, n = z.shape[0], z[0].numel()
    index = torch.arange(2 * n, dtype=torch.int64, device=z.device).view(1, 2, n)
    base = _hash32(keys.view(B, 1, 1) ^ _hash32((step * 0x9E3779B1) & _M32))
    u = (_hash32(base ^ index).to(torch.float32) + 0.5) * (1.0 / 2**32)
    normal = torch.sqrt(-2.0 * torch.log(u[:, 0])) * torch.cos((2 * math.pi) * u[:, 1])
    return z + sigma * normal.view_as(z).to(z.dtype)
