import numpy as np
import pytest

from sardip.classes import DFC2020_NAMES, IGBP_TO_DFC2020, PAPER_CLASSES, class_code, igbp_to_dfc2020


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
