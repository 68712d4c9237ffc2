"""A split given as maps: checks against the scene, leakage, buffer, validation drawn per seed."""

import numpy as np
import pytest
from scipy import ndimage

from spectranet.config import make_config
from spectranet.errors import ConfigError, DataError
from spectranet.hsi.fixed_split import buffer_split, fixed_split, preprocessing_on_training
from spectranet.hsi.splits import Split, leakage

IDS = (3, 7)
NAMES = ("3 (corn)", "7 (soil)")


@pytest.fixture
def scene():
    """A 7 x 12 scene, all labelled: id 3 (index 0) in columns 0-4, id 7 (index 1) in 5-11."""
    labels = np.zeros((7, 12), dtype=np.int64)
    labels[:, 5:] = 1
    return labels, np.asarray(IDS)[labels]


def _maps(ids, **sets):
    """Label maps holding the scene's ids on the given (row, col) pixels, 0 elsewhere."""
    out = {}
    for name, pixels in sets.items():
        m = np.zeros_like(ids)
        for r, c in pixels:
            m[r, c] = ids[r, c]
        out[name] = m
    return out


# Hand-built at window 5 (a pixel's patch reaches 2 pixels in every direction, Chebyshev):
TRAIN = [(0, 0), (3, 1), (4, 1), (3, 11)]
VAL = [(0, 8), (6, 0)]
TEST = [(3, 3), (5, 3), (3, 6), (1, 7), (6, 8)]
# (3, 3) is 2 from training (3, 1); (5, 3) is max(1, 2) = 2 from training (4, 1);
# (1, 7) is 1 from validation (0, 8); (3, 6), (6, 8) are 3 or more from both; training
# (3, 11) is 3 or more from every test and validation pixel.
# Validation (6, 0) is max(2, 1) = 2 from training (4, 1).


def _flat(pixels, cols=12):
    return sorted(r * cols + c for r, c in pixels)


def test_a_test_pixel_inside_a_training_patch_is_reported(scene):
    labels, ids = scene
    with pytest.warns(UserWarning, match=r"split: 3 of 5 test pixels lie inside a training or "
                                         r"validation patch at window 5.*drops the 3 training"):
        split = fixed_split(_maps(ids, train=TRAIN, test=TEST, val=VAL), labels, IDS, window=5,
                            seed=0)
    assert (split.train.tolist(), split.val.tolist(), split.test.tolist()) == (
        _flat(TRAIN), _flat(VAL), _flat(TEST))
    assert leakage(split, labels.shape, 5) == {"test_in_train": 2, "test_in_val": 1,
                                               "val_in_train": 1, "test": 5}
    assert split.info["test_in_patches_before_buffer"] == 3
    assert split.info["leakage_free"] is False and split.discarded.size == 0
    config = make_config("hsi", "quick", scene="indian_pines", window=5 + 4, split_file="s.npz")
    assert not preprocessing_on_training(config, split)  # PCA on the whole cube


def test_buffer_drops_exactly_the_pixels_whose_patch_holds_a_test_pixel(scene):
    labels, ids = scene
    split = fixed_split(_maps(ids, train=TRAIN, test=TEST, val=VAL), labels, IDS, window=5,
                        seed=0, buffer=True, class_names=NAMES)
    # (3, 1), (4, 1) (training, id 3) and (0, 8) (validation, id 7) go; (0, 0) is 3 from
    # (3, 3) and (6, 0) is 3 from (5, 3): they stay.
    assert split.train.tolist() == _flat([(0, 0), (3, 11)])
    assert split.val.tolist() == _flat([(6, 0)])
    assert split.discarded.tolist() == _flat([(3, 1), (4, 1), (0, 8)])
    assert split.info["buffer_dropped_per_class"] == {"0": {"train": 2, "val": 0},
                                                      "1": {"train": 0, "val": 1}}
    assert split.info["buffer_dropped"] == {"train": 2, "val": 1}
    assert "buffer at window 5: 3 pixels dropped whose 5 x 5 patch held a test pixel " \
           "(3 (corn): 2 training, 0 validation; 7 (soil): 0 training, 1 validation)" in split.notes
    assert leakage(split, labels.shape, 5) == {"test_in_train": 0, "test_in_val": 0,
                                               "val_in_train": 0, "test": 5}
    assert split.info["leakage_free"] is True
    config = make_config("hsi", "quick", scene="indian_pines", split_file="s.npz",
                         split_buffer=True)
    assert preprocessing_on_training(config, split)


def test_buffer_split_is_a_dilation_by_half_a_window(rng):
    """Against an independent reference: scipy's binary dilation with a window x window square."""
    sets = rng.integers(0, 60, size=(30, 40))
    train, val, test = sets < 20, (sets >= 20) & (sets < 30), sets == 59
    for window in (3, 5, 9):
        kept_train, kept_val, dropped = buffer_split(train, val, test, window)
        near = ndimage.binary_dilation(test, structure=np.ones((window, window), bool))
        np.testing.assert_array_equal(kept_train, train & ~near)
        np.testing.assert_array_equal(kept_val, val & ~near)
        np.testing.assert_array_equal(dropped, (train | val) & near)
        assert dropped.any() and kept_train.any()


def test_validation_is_drawn_from_the_training_map_per_seed(scene):
    labels, ids = scene
    train = [(r, c) for r in range(7) for c in (0, 1, 11)]  # 14 of id 3, 7 of id 7
    test = [(r, c) for r in range(7) for c in (4, 5)]
    maps = _maps(ids, train=train, test=test)
    splits = [fixed_split(maps, labels, IDS, window=3, seed=s, val_fraction=0.3) for s in (0, 0, 1)]
    for split in splits:
        assert sorted([*split.train, *split.val]) == _flat(train)
        drawn = labels.ravel()[split.val]
        assert ((drawn == 0).sum(), (drawn == 1).sum()) == (4, 2)  # floor(0.3 * 14), floor(0.3 * 7)
        assert split.info["validation"] == "drawn" and split.info["val_fraction"] == 0.3
    assert splits[0].val.tolist() == splits[1].val.tolist() != splits[2].val.tolist()
    one = fixed_split(_maps(ids, train=[(0, 0), (0, 11), (1, 11)], test=test), labels, IDS,
                      window=3, seed=0)
    assert one.train[0] == 0 and one.train.size == 2  # id 3's single pixel stays in training
    assert labels.ravel()[one.val].tolist() == [1]


def test_codes_map_takes_classes_from_the_ground_truth(scene):
    labels, ids = scene
    codes = np.zeros_like(ids)
    codes[0, :] = 1
    codes[6, :] = 2
    codes[3, 2] = 3
    split = fixed_split({"codes": codes}, labels, IDS, window=3, seed=0)
    assert split.train.tolist() == list(range(12)) and split.val.tolist() == [38]
    assert split.test.tolist() == list(range(72, 84)) and split.info["validation"] == "file"
    assert split.info["format"] == "codes" and split.info["unused_labelled"] == 84 - 25


def test_classes_without_training_pixels_are_named_in_a_warning(scene):
    labels, ids = scene
    maps = _maps(ids, train=[(0, 0), (1, 0)], test=[(6, 0), (6, 11)])
    with pytest.warns(UserWarning, match=r"classes without training pixels: 7 \(soil\); the "
                                         "model cannot predict them"):
        split = fixed_split(maps, labels, IDS, window=3, seed=0, class_names=NAMES)
    assert "classes without training pixels: 7 (soil)" in split.notes


@pytest.mark.parametrize(("make", "message"), [
    (lambda ids: {"train": ids[:, :8], "test": ids}, r"the train map has shape \(7, 8\), the "
                                                     r"scene's is \(7, 12\)"),
    (lambda ids: {"train": ids * (ids == 3), "test": ids * (ids == 7) + 2 * (ids == 3)},
     r"the test map holds class ids \[2\] that the scene does not have \(its ids: \[3, 7\]\)"),
    (lambda ids: {"train": np.where(ids == 3, 7, 0), "test": ids * (ids == 7)},
     r"35 pixels of the train map disagree with the scene's ground truth \(first at row 0, "
     r"col 0: 7 in the file, 3 in the ground truth"),
    (lambda ids: {"train": ids * (ids == 3), "test": ids}, r"35 pixels are in both the train and "
                                                           r"the test map \(first at row 0, col 0"),
    (lambda ids: {"train": ids, "test": np.zeros_like(ids)}, "the test set is empty"),
    (lambda ids: {"train": ids * (ids == 3), "test": ids * (ids == 7), "val": 0 * ids},
     "the validation set is empty; leave the validation map out"),
    (lambda ids: {"codes": np.full_like(ids, 4)}, r"set codes 0 \(unused\), 1 \(train\), 2 "
                                                  r"\(test\), 3 \(val\), got values \[4\]"),
    (lambda ids: {"train": np.where(np.arange(12) < 4, ids, 0),
                  "test": np.where(np.arange(12) == 4, ids, 0)},
     "the buffer at window 9 leaves no training pixel"),
])
def test_bad_maps(scene, make, message):
    labels, ids = scene
    with pytest.raises(DataError, match=message):
        fixed_split(make(ids), labels, IDS, window=9, seed=0, buffer=True, files=["s.npz"])


def test_code_map_pixels_must_be_labelled():
    labels = np.full((5, 5), -1, dtype=np.int64)
    labels[:, :3] = 0
    codes = np.zeros((5, 5), dtype=np.int64)
    codes[0, :2], codes[4, 4] = 1, 2  # (4, 4) is unlabelled
    with pytest.raises(DataError, match=r"1 pixels in a set are unlabelled in the scene's "
                                        r"ground truth \(first at row 4, col 4\)"):
        fixed_split({"codes": codes}, labels, [1], window=3, seed=0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"window": 4}, "window must be an odd integer >= 3, got 4"),
    ({"val_fraction": 1.5}, r"val_fraction must be a fraction in \(0, 1\), got 1.5"),
])
def test_bad_parameters(scene, kwargs, match):
    labels, ids = scene
    maps = _maps(ids, train=[(0, 0), (1, 0)], test=[(6, 11)])
    with pytest.raises(ConfigError, match=match):
        fixed_split(maps, labels, IDS, **({"window": 3, "seed": 0} | kwargs))


def test_preprocessing_follows_the_protocol():
    split = Split([0], [1], [2])
    for protocol, expected in (("paper", False), ("disjoint", True)):
        config = make_config("hsi", "quick", scene="indian_pines", protocol=protocol)
        assert preprocessing_on_training(config, split) is expected
