import math

import numpy as np
import pytest

from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.errors import DataError


def test_hand_computed_values():
    # truth: 3 of class 0, 2 of class 1, 1 of class 2
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 0, 2]
    m = classification_metrics(y_true, y_pred, n_classes=3)
    assert m["overall_accuracy"] == pytest.approx(4 / 6)
    # per class: 2/3, 1/2, 1/1 -> AA = (2/3 + 1/2 + 1) / 3
    assert m["per_class_accuracy"] == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert m["average_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # kappa by hand: po = 4/6; pe = sum(row_i * col_i) / n^2 = (3*3 + 2*2 + 1*1) / 36
    po, pe = 4 / 6, (3 * 3 + 2 * 2 + 1 * 1) / 36
    assert m["kappa"] == pytest.approx((po - pe) / (1 - pe))
    assert m["confusion_matrix"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    # precision of class 0: 2 of 3 predicted; class 1: 1 of 2
    assert m["precision"] == pytest.approx([2 / 3, 1 / 2, 1.0])
    f1_0 = 2 * (2 / 3) * (2 / 3) / (4 / 3)
    assert m["f1"][0] == pytest.approx(f1_0)
    assert m["macro_f1"] == pytest.approx(np.mean(m["f1"]))


def test_absent_class_is_null_and_left_out_of_aa():
    m = classification_metrics([0, 0, 1], [0, 1, 1], n_classes=3)
    assert m["per_class_accuracy"][2] is None
    assert m["average_accuracy"] == pytest.approx((0.5 + 1.0) / 2)


def test_perfect_prediction_kappa_one():
    m = classification_metrics([1, 1, 1], [1, 1, 1], n_classes=2)
    assert m["kappa"] == 1.0 and m["overall_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("t", "p", "match"),
    [([0, 1], [0], "differ in length"), ([], [], "empty"), ([0, 3], [0, 1], r"\[0, 2\]")],
)
def test_bad_input(t, p, match):
    with pytest.raises(DataError, match=match):
        classification_metrics(t, p, n_classes=3)


def test_mean_std_numbers_and_lists():
    runs = [
        {"overall_accuracy": 0.9, "per_class_accuracy": [1.0, None], "name": "a"},
        {"overall_accuracy": 0.7, "per_class_accuracy": [0.5, 0.2], "name": "b"},
    ]
    mean, std = mean_std(runs)
    assert mean["overall_accuracy"] == pytest.approx(0.8)
    assert std["overall_accuracy"] == pytest.approx(0.1)
    assert mean["per_class_accuracy"] == pytest.approx([0.75, 0.2])
    assert std["per_class_accuracy"][1] == 0.0
    assert "name" not in mean
    assert not math.isnan(std["per_class_accuracy"][0])
