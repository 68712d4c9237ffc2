"""Self-training on unlabelled pixels: the pool, the pseudo-labels, the run, the estimator."""

import json

import numpy as np
import pytest

from spectranet.cli import main
from spectranet.config import make_config
from spectranet.engine.checkpoints import load_checkpoint
from spectranet.engine.optim import training_epochs
from spectranet.errors import ConfigError, DataError
from spectranet.hsi import inference, pipeline
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.estimator import HSIClassifier
from spectranet.hsi.self_training import (
    Pool,
    PseudoLabels,
    make_pool,
    patch_safe,
    pseudo_label,
    retraining_config,
    select_confident,
    training_targets,
    unlabelled_pool,
)
from spectranet.hsi.spectral_svm import SVMMix
from spectranet.hsi.splits import Split, leakage

# --------------------------------------------------------------------------- the pool


def _check_pool(pool: np.ndarray, labels: np.ndarray, split: Split) -> None:
    """No background pixel and no pixel of the split's sets."""
    assert pool.size and (labels.ravel()[pool] >= 0).all()
    for name in ("train", "val", "test"):
        assert np.intersect1d(pool, getattr(split, name)).size == 0, name


def _stripes() -> np.ndarray:
    """48 x 48 labels: three classes in horizontal bands, background around and between."""
    labels = np.full((48, 48), -1, np.int64)
    labels[2:16, 2:46], labels[18:31, 2:46], labels[33:46, 2:46] = 0, 1, 2
    return labels


def test_pool_hand_checked():
    labels = np.array([[0, 0, 1, -1],
                       [0, 1, 1, -1],
                       [2, 2, 2, 2]])
    split = Split(train=np.array([0, 5]), val=np.array([8]), test=np.array([10]))
    # labelled: 0 1 2 4 5 6 8 9 10 11; the sets hold 0 5 8 10; 3 and 7 are background
    np.testing.assert_array_equal(unlabelled_pool(labels, split), [1, 2, 4, 6, 9, 11])


def test_pool_of_a_synthetic_disjoint_split_is_its_buffer_and_the_rule_keeps_patches_clean():
    labels = _stripes()
    split = disjoint_split(labels, window=13, seed=0)  # buffers of 6 pixels
    pool = make_pool(labels, split, 9, leakage_free=True)
    _check_pool(pool.pixels, labels, split)
    np.testing.assert_array_equal(pool.pixels, split.discarded)
    assert 0 < pool.eligible.size < pool.pixels.size and pool.window == 9
    grown = Split(np.union1d(split.train, pool.eligible), split.val, split.test)
    leak = leakage(grown, labels.shape, 9)
    assert leak["test_in_train"] == leak["val_in_train"] == 0
    # without the rule, pool pixels next to a test region would train
    every = Split(np.union1d(split.train, pool.pixels), split.val, split.test)
    assert leakage(every, labels.shape, 9)["test_in_train"] > 0


def test_pool_of_real_indian_pines_splits(data_root):
    scene = load_scene("indian_pines", root=data_root)
    config = make_config("hsi", "standard", scene="indian_pines", protocol="disjoint")
    split = pipeline.make_split(scene.labels, config, 0)
    pool = make_pool(scene.labels, split, config.window, leakage_free=True)
    _check_pool(pool.pixels, scene.labels, split)
    np.testing.assert_array_equal(pool.pixels, split.discarded)  # the buffers, 4376 pixels
    assert pool.pixels.size == 4376 and 0 < pool.eligible.size < pool.pixels.size
    grown = Split(np.union1d(split.train, pool.eligible), split.val, split.test)
    leak = leakage(grown, scene.labels.shape, config.window)
    assert leak["test_in_train"] == leak["val_in_train"] == 0
    # the random split and the training shares leave no labelled pixel out: an empty pool
    for options in ({}, {"train_per_class": 0.1}):
        other = pipeline.make_split(scene.labels, make_config(
            "hsi", "standard", scene="indian_pines", **options), 0)
        assert unlabelled_pool(scene.labels, other).size == 0


def test_patch_safe_hand_checked():
    # a 5 x 5 scene, a test pixel at its centre (12): with 3 x 3 patches its 8 neighbours are
    # out, with 5 x 5 patches every pixel is
    pixels = np.arange(25)
    kept = patch_safe(pixels, np.array([12]), (5, 5), 3)
    np.testing.assert_array_equal(kept, [0, 1, 2, 3, 4, 5, 9, 10, 14, 15, 19, 20, 21, 22, 23, 24])
    assert patch_safe(pixels, np.array([12]), (5, 5), 5).size == 0
    # not applied where the split is not leakage-free
    split = Split(np.array([0]), np.array([24]), np.array([12]))
    labels = np.zeros((5, 5), np.int64)
    pool = make_pool(labels, split, 3, leakage_free=False)
    assert pool.window is None and pool.eligible.size == 22 and "not applied" in pool.rule_text()


# --------------------------------------------------------------------------- pseudo-labels


def test_select_confident_hand_checked():
    proba = np.array([[0.70, 0.20, 0.10],   # pixel 40: exactly the threshold, kept, class 0
                      [0.30, 0.69, 0.01],   # pixel 12: 0.69 < 0.7, left out
                      [0.10, 0.10, 0.80],   # pixel 7: kept, class 2
                      [0.35, 0.35, 0.30],   # pixel 3: left out
                      [0.00, 1.00, 0.00]])  # pixel 25: kept, class 1
    pixels, labels, confidence = select_confident(proba, np.array([40, 12, 7, 3, 25]), 0.7)
    np.testing.assert_array_equal(pixels, [7, 25, 40])
    np.testing.assert_array_equal(labels, [2, 1, 0])
    np.testing.assert_allclose(confidence, [0.8, 1.0, 0.7])
    assert select_confident(proba, np.array([40, 12, 7, 3, 25]), 0.99)[0].tolist() == [25]


class _Stub:
    """A predictor whose final (mixed) probabilities are given; records what it was asked."""

    def __init__(self, proba):
        self.proba, self.asked = proba, []

    def proba_pixels(self, cube, pixels, **scoring):
        self.asked.append(np.asarray(pixels))
        return self.proba[: len(pixels)], np.asarray(pixels)


def test_pseudo_label_classifies_the_eligible_pool_only():
    pool = Pool(np.array([1, 2, 3, 4]), np.array([2, 4]), 9)
    stub = _Stub(np.array([[0.9, 0.1], [0.6, 0.4]]))
    pseudo = pseudo_label(stub, np.zeros((2, 3, 1)), pool, 0.8)
    np.testing.assert_array_equal(stub.asked[0], [2, 4])
    assert pseudo.pixels.tolist() == [2] and pseudo.labels.tolist() == [0]
    empty = pseudo_label(stub, np.zeros((2, 3, 1)), Pool(pool.pixels, np.zeros(0, int), 9), 0.8)
    assert empty.pixels.size == 0 and len(stub.asked) == 1  # nothing to classify


def test_training_targets_hide_the_pool_and_the_test_truth():
    labels = np.array([[0, 1, 2, 0, 1, 2]])
    pool = Pool(np.array([3, 4]), np.array([3, 4]), None)
    pseudo = PseudoLabels(np.array([3, 4]), np.array([2, 2]), np.array([0.9, 0.9]), 0.8, pool)
    targets = training_targets(labels, np.array([0, 1]), pseudo)  # train 0, val 1; test 5
    np.testing.assert_array_equal(targets, [[0, 1, -1, 2, 2, -1]])
    with pytest.raises(DataError, match="1 pseudo-labelled pixels are training or validation"):
        training_targets(labels, np.array([0, 3]), pseudo)


def test_retraining_config_trains_as_many_steps():
    config = make_config("hsi", "quick", scene="indian_pines", epochs=5)
    assert config.steps is None
    # the first model: 5 epochs of 3 batches = 15 steps; 4 batches an epoch now need 4 epochs
    again = retraining_config(config, 5 * 3)
    assert again.steps == 15 and again.epochs == 5 and again.self_training == config.self_training
    assert training_epochs(again.epochs, again.steps, 4) == 4


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("value", [1.0, 1.5, -0.1, True, "0.9", float("nan")])
def test_config_refuses_a_threshold_outside_0_1(value):
    with pytest.raises(ConfigError) as err:
        make_config("hsi", "quick", scene="indian_pines", self_training=value)
    assert str(err.value) == ("self_training must be a confidence threshold in (0, 1), or 0 for "
                              f"off, got {value!r}")


def test_config_default_off_and_in_no_preset():
    for preset in ("paper", "standard", "quick"):
        assert make_config("hsi", preset, scene="indian_pines").self_training == 0
    assert make_config("hsi", "quick", scene="indian_pines", self_training=0.9).self_training == 0.9


@pytest.mark.parametrize(("value", "code", "message"), [
    ("1.5", 1, "error: self_training must be a confidence threshold in (0, 1), or 0 for off, "
               "got 1.5"),
    ("high", 2, "a confidence in (0, 1) or 'off', got 'high'"),
])
def test_cli_refuses_a_bad_threshold_in_one_line(tmp_path, capsys, user_scene, value, code,
                                                 message):
    out = tmp_path / "run"
    status = main(["hsi", "train", "--cube", user_scene["cube"], "--gt", user_scene["gt"],
                   "--self-training", value, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == code and message in err and not out.exists()
    if code == 1:
        assert "\n" not in err


# --------------------------------------------------------------------------- a run end to end


def _run(out, files, **options):
    config = make_config("hsi", "quick", protocol="disjoint", window=9, steps=6,
                         seeds=[0], **files, **options)
    return config, pipeline.train(config, out, progress=False)


@pytest.fixture(scope="module")
def ip_crop(tmp_path_factory, data_root):
    """A real run on a 60 x 60 crop of Indian Pines (all bands), disjoint, 6 steps, with the
    SVM mixed in at 0.5; every pixel set the SVM is fitted on is recorded."""
    folder = tmp_path_factory.mktemp("ip_crop")
    scene = load_scene("indian_pines", root=data_root)
    gt = np.where(scene.labels >= 0, np.asarray(scene.class_ids)[scene.labels], 0)[:60, :60]
    np.save(folder / "cube.npy", scene.cube[:60, :60])
    np.save(folder / "gt.npy", gt)
    files = {"cube": str(folder / "cube.npy"), "gt": str(folder / "gt.npy")}
    fitted = []
    original = SVMMix.fit.__func__

    def recording(cls, cube, labels, pixels, **kwargs):
        fitted.append(np.asarray(pixels).copy())
        return original(cls, cube, labels, pixels, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SVMMix, "fit", classmethod(recording))
        config, metrics = _run(folder / "run", files, split_window=11, svm_weight=0.5,
                               self_training=0.5)
    return folder, files, config, metrics, fitted


def test_run_records_the_self_training(ip_crop):
    folder, _, _, metrics, _ = ip_crop
    st = metrics["self_training"]
    assert st["threshold"] == 0.5 and st["retrained"] is True
    assert st["pool"] == sum(st["pool_per_class"]) > st["eligible"] >= st["kept"] > 0
    assert sum(st["kept_per_class"]) == st["kept"]
    assert all(c <= k for c, k in zip(st["correct_per_class"], st["kept_per_class"],
                                      strict=True))
    assert st["precision"] == pytest.approx(sum(st["correct_per_class"]) / st["kept"])
    assert "9 x 9 patch holds no test and no validation pixel" in st["patch_rule"]
    for model in ("first", "self_trained"):
        assert {"val_accuracy", "test_accuracy", "epochs", "steps", "train_seconds",
                "svm_weight"} <= set(st[model])
        assert 0 <= st[model]["val_accuracy"] <= 1 and 0 <= st[model]["test_accuracy"] <= 1
    # the kept result is the self-trained model, trained as many steps (whole epochs)
    assert metrics["overall_accuracy"] == pytest.approx(st["self_trained"]["test_accuracy"])
    assert (metrics["steps"], metrics["epochs"]) == (st["self_trained"]["steps"],
                                                     st["self_trained"]["epochs"])
    first, second = st["first"]["steps"], st["self_trained"]["steps"]
    batches = second // st["self_trained"]["epochs"]
    assert st["self_trained"]["epochs"] == -(-first // batches) and first <= second
    assert metrics["train_seconds"] == pytest.approx(st["first"]["train_seconds"]
                                                     + st["self_trained"]["train_seconds"])
    report = (folder / "run/report.md").read_text()
    assert "## Self-training (one round, confidence >= 0.5)" in report
    assert "one round of self-training at confidence 0.5" in report
    assert (folder / "run/seed_0/first_model.pt").is_file()


def test_run_pseudo_labels_are_pool_pixels_whose_patch_touches_no_test_pixel(ip_crop):
    folder, _, config, metrics, _ = ip_crop
    split = Split.from_dict(json.loads((folder / "run/seed_0/split.json").read_text()))
    pseudo = json.loads((folder / "run/seed_0/pseudo_labels.json").read_text())
    pixels = np.asarray(pseudo["pixels"])
    assert len(pixels) == metrics["self_training"]["kept"] > 0
    gt = np.load(folder / "gt.npy")
    labels = np.where(gt > 0, np.searchsorted(np.unique(gt[gt > 0]), gt), -1)
    _check_pool(pixels, labels, split)
    grown = Split(np.union1d(split.train, pixels), split.val, split.test)
    leak = leakage(grown, gt.shape, config.window)
    assert leak["test_in_train"] == leak["val_in_train"] == 0


def test_pseudo_labels_never_reach_the_svm(ip_crop):
    folder, _, _, _, fitted = ip_crop
    split = Split.from_dict(json.loads((folder / "run/seed_0/split.json").read_text()))
    assert fitted  # the mix's SVM (and the baseline's, when it is another window)
    for pixels in fitted:
        np.testing.assert_array_equal(np.sort(pixels), split.train)
    svm = load_checkpoint(folder / "run/seed_0/checkpoint.pt")["metadata"]["svm_mix"]
    gt = np.load(folder / "gt.npy")
    ids = np.unique(gt[gt > 0])
    np.testing.assert_array_equal(svm["labels"].numpy(),
                                  np.searchsorted(ids, gt.ravel()[split.train]))


def test_evaluate_scores_the_self_trained_model(ip_crop):
    folder, _, _, metrics, _ = ip_crop
    again = inference.evaluate(folder / "run", progress=False)
    assert again["overall_accuracy"] == pytest.approx(metrics["overall_accuracy"])


def test_same_seed_same_numbers(ip_crop, tmp_path):
    folder, files, _, metrics, _ = ip_crop
    _, again = _run(tmp_path / "again", files, split_window=11, svm_weight=0.5,
                    self_training=0.5)

    def numbers(m):
        st = {k: v for k, v in m["self_training"].items() if k not in ("first", "self_trained")}
        models = [{k: v for k, v in m["self_training"][name].items() if k != "train_seconds"}
                  for name in ("first", "self_trained")]
        return m["overall_accuracy"], m["confusion_matrix"], st, models

    assert numbers(again) == numbers(metrics)
    assert ((tmp_path / "again/seed_0/pseudo_labels.json").read_text()
            == (folder / "run/seed_0/pseudo_labels.json").read_text())


def test_a_seed_without_pseudo_labels_keeps_its_first_model(tmp_path):
    labels = _stripes()
    cube = np.random.default_rng(0).uniform(1, 2, (48, 48, 16)).astype(np.float32)
    cube[labels == 1, :8] += 1.0
    cube[labels == 2, 8:] += 1.0
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", labels + 1)
    files = {"cube": str(tmp_path / "cube.npy"), "gt": str(tmp_path / "gt.npy")}
    _, metrics = _run(tmp_path / "run", files, components=16, split_window=13,
                      self_training=0.999999)
    st = metrics["self_training"]
    assert st["retrained"] is False and st["kept"] == 0 and st["eligible"] > 0
    assert "self_trained" not in st and st["precision"] is None
    assert metrics["overall_accuracy"] == pytest.approx(st["first"]["test_accuracy"])
    assert inference.evaluate(tmp_path / "run", progress=False)["overall_accuracy"] == \
        pytest.approx(metrics["overall_accuracy"])
    assert "keeps its first model" in (tmp_path / "run/report.md").read_text()


# --------------------------------------------------------------------------- the estimator


def test_estimator_pseudo_labels_the_pixels_marked_minus_one(user_scene):
    cube, gt = np.load(user_scene["cube"]), np.load(user_scene["gt"])
    marked = gt.copy()
    marked[2:12, 14:22] = marked[13:22, 14:22] = -1  # labels held back: the pool
    est = HSIClassifier("quick", window=9, components=16, epochs=1, svm_weight=1.0,
                        self_training=0.6).fit(cube, marked)
    st = est.self_training_
    assert st["pool"] == st["eligible"] == 152 and "precision" not in st
    assert st["retrained"] is True and 0 < st["kept"] <= 152
    np.testing.assert_array_equal(est.classes_, [3, 7])
    assert est.predict(cube).shape == gt.shape
    # the mix is the SVM alone (weight 1), fitted on the labelled training pixels only: the
    # pseudo-labels are the pool pixels whose SVM top probability reaches 0.6, with its class
    pool = np.flatnonzero(marked.ravel() == -1)
    svm = est.svm_mix_.pixel_proba(cube, pool, 2)
    assert st["kept"] == int((svm.max(1) >= 0.6).sum())
    assert est.svm_mix_.labels.size < (marked > 0).sum()  # not the pool, not the hold-out
    again = pseudo_label(est.predictor_, cube, Pool(pool, pool, None), 0.6)
    np.testing.assert_array_equal(again.labels, svm[np.isin(pool, again.pixels)].argmax(1))
    with pytest.raises(DataError, match="label_map must hold ids >= 0"):
        HSIClassifier("quick", window=9, components=16, epochs=1).fit(cube, marked)
