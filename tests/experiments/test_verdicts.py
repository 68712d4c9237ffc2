"""The claim verdict rule on made-up paired results, checked against scipy's paired t-test."""

import math

import pytest
from scipy import stats

from spectranet.engine.verdicts import (
    HOLDS,
    REVERSED,
    compare_paired,
    comparison_cells,
)

FOLDS = (1, 2, 3, 10)


def _pairs(a, b):
    return dict(zip(FOLDS, a, strict=True)), dict(zip(FOLDS, b, strict=True))


def test_consistent_gain_holds():
    c = compare_paired(*_pairs([0.80, 0.78, 0.75, 0.70], [0.75, 0.74, 0.72, 0.66]))
    assert c.verdict == HOLDS
    assert c.differences == pytest.approx((0.05, 0.04, 0.03, 0.04))
    assert c.mean == pytest.approx(0.04)
    assert c.agree == 4 and c.low > 0


def test_consistent_loss_is_reversed():
    c = compare_paired(*_pairs([0.70, 0.71, 0.69, 0.60], [0.75, 0.74, 0.72, 0.66]))
    assert c.verdict == REVERSED
    assert c.agree == 0 and c.high < 0


def test_mixed_signs_are_not_distinguishable():
    c = compare_paired(*_pairs([0.80, 0.70, 0.75, 0.66], [0.75, 0.74, 0.72, 0.68]))
    assert c.verdict == "not distinguishable with 4 folds"
    assert c.agree == 2


def test_all_pairs_agree_but_spread_too_large_is_not_distinguishable():
    # every fold favours a, but one difference dwarfs the rest: the interval crosses 0
    c = compare_paired(*_pairs([0.7501, 0.7401, 0.7201, 0.96], [0.75, 0.74, 0.72, 0.66]))
    assert c.agree == 4
    assert c.verdict == "not distinguishable with 4 folds"


@pytest.mark.parametrize("a, b", [
    ([0.80, 0.78, 0.75, 0.70], [0.75, 0.74, 0.72, 0.66]),
    ([0.80, 0.70, 0.75, 0.66], [0.75, 0.74, 0.72, 0.68]),
    ([0.61, 0.66, 0.58, 0.64], [0.60, 0.62, 0.59, 0.60]),
])
def test_interval_agrees_with_scipy_paired_t_test(a, b):
    c = compare_paired(*_pairs(a, b))
    result = stats.ttest_rel(a, b)
    low, high = result.confidence_interval(0.95)
    assert (c.low, c.high) == pytest.approx((low, high))
    decided = c.verdict in (HOLDS, REVERSED)
    assert decided == (result.pvalue < 0.05)


def test_only_shared_keys_are_paired_and_seeds_are_named():
    c = compare_paired({0: 0.9, 1: 0.8, 2: 0.85, 7: 0.1}, {0: 0.88, 1: 0.81, 2: 0.86},
                       unit="seeds")
    assert c.keys == (0, 1, 2)
    assert c.verdict == "not distinguishable with 3 seeds"


def test_one_pair_cannot_decide_and_none_is_not_run():
    one = compare_paired({0: 0.99}, {0: 0.50}, unit="seeds")
    assert one.verdict == "not distinguishable with 1 seed"
    assert math.isnan(one.low) and one.agree == 1
    assert compare_paired({1: 0.7}, {2: 0.6}).verdict == "not run"


def test_cells_print_points():
    c = compare_paired(*_pairs([0.80, 0.78, 0.75, 0.70], [0.75, 0.74, 0.72, 0.66]))
    per, mean, interval, agree, verdict = comparison_cells(c)
    assert per == "1: +5.0, 2: +4.0, 3: +3.0, 10: +4.0"
    assert mean == "+4.0 ± 0.8"
    assert interval.startswith("[+2.") and agree == "4/4" and verdict == HOLDS
