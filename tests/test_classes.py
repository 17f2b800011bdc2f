import numpy as np
import pandas as pd
import pytest

from sardip.classes import (
    COUNT_COLUMNS,
    DFC2020_NAMES,
    IGBP_TO_DFC2020,
    PAPER_CLASSES,
    class_code,
    igbp_to_dfc2020,
    majority_classes,
)
from sardip.classify.labels import labels_from_inventory
from sardip.select import combine_inventories


def test_lookup_is_the_sen12ms_table():
    assert IGBP_TO_DFC2020.tolist() == [0, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 6, 8, 9, 10]
    assert {DFC2020_NAMES[c] for c in igbp_to_dfc2020(np.arange(1, 18))} >= set(PAPER_CLASSES)


def test_igbp_mapping_examples():
    igbp = np.array([[1, 5, 6], [10, 13, 17]], dtype=np.uint8)
    names = [[DFC2020_NAMES[int(c)] for c in row] for row in igbp_to_dfc2020(igbp)]
    assert names == [["Forest", "Forest", "Shrubland"], ["Grassland", "Urban", "Water"]]


@pytest.mark.parametrize("bad", [0, 18, 255])
def test_igbp_outside_range_is_named(bad):
    with pytest.raises(ValueError, match=rf"outside 1..17: \[{bad}\]"):
        igbp_to_dfc2020(np.array([[1, bad]], dtype=np.uint8))


def test_unknown_class_lists_choices():
    with pytest.raises(ValueError, match="Forest"):
        class_code("Jungle")


def test_majority_rule_ties_to_the_lowest_code_and_is_the_one_both_stages_use():
    counts = np.zeros((3, 10), dtype=int)
    counts[0, [0, 9]] = 5  # Forest and Water tie: Forest (code 1)
    counts[1, 6] = 7  # Urban
    counts[2, [3, 5]] = [2, 3]  # Croplands beats Grassland
    assert majority_classes(counts) == ["Forest", "Urban", "Croplands"]
    assert majority_classes(np.zeros((0, 10))) == []
    inventory = pd.DataFrame(counts, columns=list(COUNT_COLUMNS)).assign(tile_id=["a", "b", "c"], n_valid=counts.sum(1))
    assert combine_inventories([inventory])["majority_class"].tolist() == majority_classes(counts)
    assert labels_from_inventory(inventory).tolist() == majority_classes(counts)
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        majority_classes(np.zeros((2, 7)))
