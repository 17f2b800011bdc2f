"""Reproducible numbers derived from a name and a base seed, independent of every other name.

One construction serves every place that needs them: the first 8 bytes of
``sha256(f"{base_seed}:{name}")`` read as a big-endian integer. :func:`tile_seed` keeps 63 bits of it
(a non-negative int64, what torch and numpy generators accept); :func:`unit_key` maps it to [0, 1)
(the selection's bottom-k draw). A tile's value never depends on which other tiles exist, so adding
tiles, or fitting a tile with other batch mates, never changes it.
"""

from __future__ import annotations

import hashlib


def name_hash(name: str, base_seed: int) -> int:
    """First 8 bytes of ``sha256(f"{base_seed}:{name}")`` as an unsigned 64-bit integer."""
    digest = hashlib.sha256(f"{base_seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def tile_seed(tile_id: str, base_seed: int) -> int:
    """A tile's own seed from the base seed: :func:`name_hash` as a 63-bit integer."""
    return name_hash(tile_id, base_seed) & ((1 << 63) - 1)


def unit_key(name: str, base_seed: int) -> float:
    """A uniform key in [0, 1) of ``name``: :func:`name_hash` / 2^64."""
    return name_hash(name, base_seed) / 2**64
