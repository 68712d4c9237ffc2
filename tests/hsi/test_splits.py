import json

import numpy as np
import pytest
from scipy import ndimage
from scipy.io import loadmat

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.splits import SETS, Split, per_class_split, random_split


@pytest.fixture
def fields():
    """A 60 x 80 scene: 4 classes in compact fields (two fields for classes 0 and 2), a tiny
    class 4 (2 x 2), unlabelled background."""
    labels = np.full((60, 80), -1, dtype=np.int64)
    labels[2:20, 2:30] = 0
    labels[40:58, 50:78] = 0
    labels[2:30, 35:60] = 1
    labels[32:58, 2:20] = 2
    labels[5:15, 65:78] = 2
    labels[35:55, 25:45] = 3
    labels[25:27, 70:72] = 4
    return labels


@pytest.fixture(scope="module")
def indian_pines_gt(data_root):
    path = data_root / "hsi" / "indian_pines" / "Indian_pines_gt.mat"
    return loadmat(path)["indian_pines_gt"].astype(np.int64) - 1  # 0 = unlabelled -> -1


def _check_disjoint_sets(split, labels):
    sets = [getattr(split, n) for n in (*SETS, "discarded")]
    everything = np.concatenate(sets)
    assert np.unique(everything).size == everything.size  # no pixel in two sets
    assert (labels.ravel()[everything] >= 0).all()  # only labelled pixels
    for arr in sets:
        assert arr.dtype == np.int64 and np.all(np.diff(arr) > 0)


def _check_no_leakage(split, labels, window):
    """Independent check: scipy's binary dilation with a window x window square."""
    train, val, test = split.masks(labels.shape)
    square = np.ones((window, window), dtype=bool)
    near_test = ndimage.binary_dilation(test, structure=square)
    near_val = ndimage.binary_dilation(val, structure=square)
    assert not (near_test & train).any(), "a training patch contains a test pixel"
    assert not (near_test & val).any(), "a validation patch contains a test pixel"
    assert not (near_val & train).any(), "a training patch contains a validation pixel"


# --------------------------------------------------------------------------- random
def test_random_split_stratified(fields):
    split = random_split(fields, seed=0)
    _check_disjoint_sets(split, fields)
    assert split.discarded.size == 0
    counts = split.class_counts(fields)
    for k, c in counts.items():
        n = (fields == k).sum()
        assert c["train"] + c["val"] + c["test"] == n  # every labelled pixel used
        assert c["test"] == min(max(int(np.ceil(0.3 * n)), 1), n - 2)
        assert abs(c["val"] - c["train"]) <= 1 or n < 10  # the rest halved
    assert split.info["protocol"] == "random"


def test_random_split_deterministic(fields):
    a, b = random_split(fields, seed=3), random_split(fields, seed=3)
    c = random_split(fields, seed=4)
    for name in SETS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.test, c.test)
    d = random_split(fields, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(d.test, a.test)  # a Generator seeded alike gives the same


def test_random_split_small_class(fields):
    fields[fields == 4] = -1
    fields[0, 0:2] = 4
    with pytest.raises(DataError, match="class index 4 has 2 pixels, a stratified split needs"):
        random_split(fields, seed=0)
    names = ["a", "b", "c", "d", "12 (Oats)"]  # the caller's names for the indices
    with pytest.raises(DataError, match=r"class 12 \(Oats\) has 2 pixels"):
        random_split(fields, seed=0, class_names=names)
    fields[0, 2] = 4
    split = random_split(fields, seed=0)
    assert all(v == 1 for k, v in split.class_counts(fields)[4].items() if k in SETS)


@pytest.mark.parametrize("kwargs, match", [
    ({"test_size": 0.0}, "test_size must be a fraction in"),
    ({"test_size": 1.0}, "test_size must be a fraction in"),
    ({"val_fraction": 1.5}, "val_fraction must be a fraction in"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"seed": 1.5}, "seed must be an integer >= 0"),
])
def test_random_split_config_errors(fields, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        random_split(fields, **{"seed": 0, **kwargs})


def test_labels_errors(fields):
    with pytest.raises(DataError, match="labels must be a 2-D"):
        random_split(fields[0], seed=0)
    with pytest.raises(DataError, match="integer dtype"):
        random_split(fields.astype(float), seed=0)
    with pytest.raises(DataError, match="no labelled pixel"):
        random_split(np.full((4, 4), -1), seed=0)
    with pytest.raises(DataError, match="-1 .unlabelled. or a class index >= 0, got -2"):
        random_split(fields - 1, seed=0)


# --------------------------------------------------------------------------- Split
def test_split_round_trip_and_masks(fields):
    split = disjoint_split(fields, window=5, seed=0)
    text = json.dumps(split.to_dict())
    back = Split.from_dict(json.loads(text))
    for name in (*SETS, "discarded"):
        np.testing.assert_array_equal(getattr(back, name), getattr(split, name))
    assert back.notes == split.notes and back.info == split.info
    train, val, test = split.masks(fields.shape)
    assert train.sum() == split.train.size and not (train & test).any()
    with pytest.raises(DataError, match="outside a scene of shape"):
        split.masks((2, 2))


def test_split_rejects_overlap():
    with pytest.raises(DataError, match="disjoint"):
        Split(np.array([1, 2]), np.array([3]), np.array([2]))
    with pytest.raises(DataError, match="must hold keys"):
        Split.from_dict({"train": [1]})


# --------------------------------------------------------------------------- per class
def test_per_class_counts(fields):
    split = per_class_split(fields, train_per_class=2, val_per_class=1, seed=0)
    _check_disjoint_sets(split, fields)
    for k, c in split.class_counts(fields).items():
        assert (c["train"], c["val"]) == (2, 1)
        assert c["test"] == (fields == k).sum() - 3


def test_per_class_fractions(fields):
    split = per_class_split(fields, train_per_class=0.1, val_per_class=0.05, seed=0)
    for k, c in split.class_counts(fields).items():
        n = (fields == k).sum()
        assert c["train"] == max(round(0.1 * n), 1) and c["val"] == max(round(0.05 * n), 1)
        assert c["train"] + c["val"] + c["test"] == n
    no_val = per_class_split(fields, train_per_class=2, seed=0)
    assert no_val.val.size == 0


@pytest.mark.parametrize("value, match", [
    (1.0, r"got 1.0 \(pass an int for a count\)"),
    (10.0, r"got 10.0 \(pass an int for a count\)"),
    (0, "as a count must be an integer >= 1, got 0"),
    (0.0, "or a float in"),
    (True, "int count or a float fraction, got True"),
    ("5", "or a float in"),
])
def test_per_class_ambiguous(fields, value, match):
    with pytest.raises(ConfigError, match=match):
        per_class_split(fields, train_per_class=value, seed=0)


def test_per_class_errors(fields):
    with pytest.raises(ConfigError, match="must be < 1 as fractions"):
        per_class_split(fields, train_per_class=0.6, val_per_class=0.4, seed=0)
    with pytest.raises(DataError,
                       match=r"class index 4 has 4 pixels, needs >= 6 \(3 train \+ 2 val"):
        per_class_split(fields, train_per_class=3, val_per_class=2, seed=0)


# --------------------------------------------------------------------------- disjoint
@pytest.mark.parametrize("window", [3, 5, 9])
def test_disjoint_synthetic(fields, window):
    split = disjoint_split(fields, window=window, seed=0)
    _check_disjoint_sets(split, fields)
    _check_no_leakage(split, fields, window)
    counts = split.class_counts(fields)
    for k in range(4):  # every class with area is in all three sets
        assert min(counts[k][n] for n in SETS) > 0, (k, counts[k])
    # the 2 x 2 class cannot be cut with a buffer: reported, not silently dropped
    assert "4" in split.info["missing"] and any("class index 4" in n for n in split.notes)
    assert counts[4]["train"] > 0  # training has priority
    kept = sum(counts[k][n] for k in counts for n in SETS)
    assert kept + split.discarded.size == (fields >= 0).sum()
    assert split.info["n_discarded"] == split.discarded.size
    assert sum(split.info["discarded_per_class"].values()) == split.discarded.size


def test_disjoint_deterministic(fields):
    a = disjoint_split(fields, window=5, seed=7)
    b = disjoint_split(fields, window=5, seed=7)
    for name in (*SETS, "discarded"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    others = [disjoint_split(fields, window=5, seed=s).test for s in range(4)]
    assert any(not np.array_equal(others[0], o) for o in others[1:])


@pytest.mark.parametrize("kwargs, match", [
    ({"window": 10}, "window must be an odd integer >= 3, got 10"),
    ({"window": 1}, "window must be an odd integer >= 3, got 1"),
    ({"test_size": 0.6, "val_size": 0.4}, "test_size \\+ val_size must be < 1"),
    ({"val_size": 0}, "val_size must be a fraction in"),
])
def test_disjoint_errors(fields, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        disjoint_split(fields, **{"window": 5, "seed": 0, **kwargs})


@pytest.mark.parametrize("window", [11, 25])
def test_disjoint_indian_pines(indian_pines_gt, window):
    labels = indian_pines_gt
    split = disjoint_split(labels, window=window, seed=0)
    _check_disjoint_sets(split, labels)
    _check_no_leakage(split, labels, window)
    counts = split.class_counts(labels)
    print(f"\nIndian Pines, disjoint split, window {window}: class train/val/test/discarded")
    for k, c in counts.items():
        print(f"  {k:2d} ({(labels == k).sum():4d} px): {c['train']:4d} {c['val']:4d} "
              f"{c['test']:4d} {c['discarded']:4d}")
    print("  " + "\n  ".join(split.notes) if split.notes else "  all classes in all sets")
    assert set(split.info["missing"]) == {str(k) for k, c in counts.items()
                                          if min(c[n] for n in SETS) == 0}
    if window == 11:
        # every class reaches training; every class with enough area reaches all three sets
        assert all(c["train"] > 0 for c in counts.values())
        big = [k for k in counts if (labels == k).sum() >= 90]
        assert len(big) == 13
        assert all(min(counts[k][n] for n in SETS) > 0 for k in big), split.notes
        for n in SETS:
            assert np.array_equal(getattr(split, n),
                                  getattr(disjoint_split(labels, window=11, seed=0), n))


def test_random_split_indian_pines(indian_pines_gt):
    split = random_split(indian_pines_gt, seed=0)
    _check_disjoint_sets(split, indian_pines_gt)
    n = (indian_pines_gt >= 0).sum()
    assert split.test.size + split.val.size + split.train.size == n == 10249
    assert abs(split.test.size / n - 0.3) < 0.01


def test_leakage_counts_test_pixels_inside_other_sets_patches(fields):
    from spectranet.hsi.splits import leakage

    # a random split leaves most test pixels beside a training pixel; a disjoint one none
    paper = leakage(random_split(fields, seed=0), fields.shape, 5)
    assert paper["test_in_train"] > 0.5 * paper["test"]
    window = 5
    disjoint = leakage(disjoint_split(fields, window=window, seed=0), fields.shape, window)
    assert disjoint["test_in_train"] == disjoint["test_in_val"] == disjoint["val_in_train"] == 0
    assert disjoint["test"] > 0


# --------------------------------------------------------------------------- disjoint blocks
def test_disjoint_blocks_hand_checked():
    """One 60 x 10 field, window 3 (buffer 1), blocks of 20 stripes: three blocks, each cut
    into test, training and validation parts, one free stripe at every cut and at every block
    start after the first; every set then samples the whole length of the field."""
    labels = np.full((60, 10), -1, dtype=np.int64)
    labels[:, :] = 0
    split = disjoint_split(labels, window=3, seed=0, block=20)
    _check_disjoint_sets(split, labels)
    _check_no_leakage(split, labels, 3)
    train, val, test = split.masks(labels.shape)
    for m in (train, val, test):
        rows = np.flatnonzero(m.any(1))
        assert (m[rows].all(1)).all()  # whole stripes (rows) only
        assert {r // 20 for r in rows} == {0, 1, 2}  # in each of the three blocks
    # per block: 20 stripes, 2 buffers at the cuts (+1 at the start of blocks 2 and 3)
    assert split.discarded.size == 10 * (2 + 3 + 3)
    assert split.info["block"] == 20
    # the default (one block) cuts the field into three contiguous parts only
    one = disjoint_split(labels, window=3, seed=0)
    for m in one.masks(labels.shape):
        rows = np.flatnonzero(m.any(1))
        assert rows.size == np.ptp(rows) + 1
    assert one.discarded.size == 10 * 2 and one.info["block"] is None


@pytest.mark.parametrize("window", [5, 9])
def test_disjoint_blocks_synthetic(fields, window):
    split = disjoint_split(fields, window=window, seed=1, block=3 * (window // 2) + 3)
    _check_disjoint_sets(split, fields)
    _check_no_leakage(split, fields, window)
    counts = split.class_counts(fields)
    assert all(min(counts[k][n] for n in SETS) > 0 for k in range(4)), counts


@pytest.mark.parametrize("block", [8, 0, True, 2.5])
def test_disjoint_block_errors(fields, block):
    with pytest.raises(ConfigError, match="block must be an integer >= 3"):
        disjoint_split(fields, window=5, seed=0, block=block)


def test_disjoint_blocks_indian_pines(indian_pines_gt):
    labels = indian_pines_gt
    split = disjoint_split(labels, window=9, seed=0, val_size=0.35, block=30)
    _check_disjoint_sets(split, labels)
    _check_no_leakage(split, labels, 9)
    counts = split.class_counts(labels)
    big = [k for k in counts if (labels == k).sum() >= 90]
    assert all(min(counts[k][n] for n in SETS) > 0 for k in big), split.notes
    assert all(c["train"] > 0 for c in counts.values())
