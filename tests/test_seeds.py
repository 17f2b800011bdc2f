"""Derived seeds and keys: one sha256 construction, stable values, independent of other names."""

import hashlib

import pytest

from sardip.seeds import name_hash, tile_seed, unit_key


def _sha_prefix(name: str, base: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{base}:{name}".encode()).digest()[:8], "big")


@pytest.mark.parametrize(("name", "base"), [("ROIs1158_spring_1_p30", 0), ("a", 1), ("x", 5), ("", 42)])
def test_one_construction_for_seeds_and_keys(name: str, base: int) -> None:
    assert name_hash(name, base) == _sha_prefix(name, base)
    assert tile_seed(name, base) == _sha_prefix(name, base) & (2**63 - 1)
    assert unit_key(name, base) == _sha_prefix(name, base) / 2**64


def test_values_differ_by_name_and_base_and_stay_in_range() -> None:
    assert tile_seed("a", 0) == tile_seed("a", 0)
    assert len({tile_seed("a", 0), tile_seed("b", 0), tile_seed("a", 1)}) == 3
    assert 0 <= tile_seed("x", 5) < 2**63
    assert unit_key("a", 1) == unit_key("a", 1) != unit_key("a", 2)
    assert 0 <= unit_key("a", 1) < 1
