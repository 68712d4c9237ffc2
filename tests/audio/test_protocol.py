import numpy as np
import pytest

from spectranet.audio.protocol import aggregate_clips, fold_assignments, fold_split
from spectranet.errors import ConfigError, DataError


def test_fold_assignments_previous_fold_with_wraparound():
    assert fold_assignments([1, 2, 3, 10], 1) == ((2, 3), 10, 1)
    assert fold_assignments([10, 3, 2, 1, 1], 2) == ((3, 10), 1, 2)
    assert fold_assignments([1, 2, 3, 10], 10) == ((1, 2), 3, 10)
    assert fold_assignments(range(1, 11), 1) == (tuple(range(2, 10)), 10, 1)


@pytest.mark.parametrize("folds", [[1, 2, 3], [1, 2, 3, 10], list(range(1, 11))])
def test_fold_assignments_partition(folds):
    for test in folds:
        train, val, t = fold_assignments(folds, test)
        assert t == test and val != test and test not in train and val not in train
        assert sorted([*train, val, test]) == sorted(folds)


def test_fold_assignments_errors():
    with pytest.raises(ConfigError, match=r"at least 3 folds .* got \[1, 2\]"):
        fold_assignments([1, 2, 2], 1)
    with pytest.raises(ConfigError, match=r"test_fold must be one of the folds present .* got 4"):
        fold_assignments([1, 2, 3, 10], 4)


def test_fold_split_no_clip_in_two_sets():
    folds = np.array([1, 10, 2, 3, 3, 1, 10, 2, 1])
    split = fold_split(folds, 1)
    assert split["test"].tolist() == [0, 5, 8] and split["val"].tolist() == [1, 6]
    assert split["train"].tolist() == [2, 3, 4, 7]
    all_ids = np.concatenate(list(split.values()))
    assert len(all_ids) == len(set(all_ids.tolist())) == len(folds)


def test_aggregate_mean():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    ids, clip = aggregate_clips(probs, np.array([5, 2, 5, 2]))
    assert ids.tolist() == [2, 5]
    np.testing.assert_allclose(clip, [[0.4, 0.6], [0.6, 0.4]])


def test_aggregate_vote_majority_and_tie_break():
    probs = np.array([
        [0.6, 0.4, 0.0], [0.6, 0.4, 0.0], [0.0, 0.1, 0.9],  # clip 0: 2 votes class 0; mean -> 2
        [0.55, 0.45, 0.0], [0.0, 0.99, 0.01],               # clip 1: tie 1-1, mean prefers 1
        [0.52, 0.48, 0.0], [0.49, 0.51, 0.0],               # clip 2: tie, mean prefers 0
    ])  # fmt: skip
    ids = np.array([0, 0, 0, 1, 1, 2, 2])
    _, mean = aggregate_clips(probs, ids, method="mean")
    assert mean.argmax(axis=1).tolist() == [0, 1, 0]
    _, vote = aggregate_clips(probs, ids, method="vote")
    assert vote.argmax(axis=1).tolist() == [0, 1, 0]
    np.testing.assert_allclose(vote.sum(axis=1), 1.0)
    # majority beats a higher mean probability
    p = np.array([[0.51, 0.49], [0.51, 0.49], [0.0, 1.0]])
    _, m = aggregate_clips(p, np.zeros(3, dtype=int))
    _, v = aggregate_clips(p, np.zeros(3, dtype=int), method="vote")
    assert m.argmax() == 1 and v.argmax() == 0


def test_aggregate_errors():
    with pytest.raises(ConfigError, match="method must be 'mean' or 'vote', got 'max'"):
        aggregate_clips(np.ones((2, 2)) / 2, np.array([0, 1]), method="max")
    with pytest.raises(DataError, match=r"clip_ids must have shape \(2,\), got \(3,\)"):
        aggregate_clips(np.ones((2, 2)) / 2, np.array([0, 1, 2]))
    with pytest.raises(DataError, match="finite"):
        aggregate_clips(np.array([[np.nan, 1.0]]), np.array([0]))
    with pytest.raises(DataError, match="shape"):
        aggregate_clips(np.zeros((0, 3)), np.zeros(0))


def test_fold_split_without_validation_trains_on_every_other_fold():
    folds = np.array([1, 2, 3, 10, 1, 2, 3, 10, -1])
    split = fold_split(folds, 1, validation=False)
    assert split["test"].tolist() == [0, 4] and split["val"].size == 0
    assert split["train"].tolist() == [1, 2, 3, 5, 6, 7]  # folds 2, 3, 10 (10 validates otherwise)
    with_val = fold_split(folds, 1)
    assert sorted([*with_val["train"], *with_val["val"]]) == split["train"].tolist()


def test_round_warnings_name_missing_classes_and_tiny_validation_folds():
    from spectranet.audio.protocol import round_warnings

    folds = np.array([1] * 30 + [2] * 5 + [3] * 30)
    labels = np.array([0] * 30 + [1] * 5 + [0] * 15 + [1] * 15)
    names = ["dog", "siren"]
    # test fold 3: fold 2 validates (5 clips), fold 1 trains (dogs only)
    assert round_warnings(labels, folds, [3], names) == [
        "test fold 3: no training clip of class siren",
        "test fold 3: the validation fold has 5 clips (fewer than 20): the best epoch is "
        "picked on noise"]
    # without a validation fold, fold 2 trains too: both classes, no warning
    assert round_warnings(labels, folds, [3], names, validation=False) == []
