"""The spectral SVM mixed into a run's CNN (``svm_weight``): the mix, its checkpoint state, and
a run, ``evaluate``, ``predict`` and the estimator that use it."""

import json

import numpy as np
import pytest

from spectranet.cli import main
from spectranet.config import make_config
from spectranet.engine.checkpoints import load_checkpoint, save_checkpoint
from spectranet.engine.run import rescore
from spectranet.errors import ConfigError
from spectranet.hsi import inference, pipeline
from spectranet.hsi.estimator import HSIClassifier
from spectranet.hsi.spectral_svm import SVMMix, fit_spectral_svm, spectral_svm_proba


@pytest.fixture
def small_scene():
    """A 6 x 8 x 5 cube, three classes told apart by which bands are bright; one unlabelled
    row."""
    g = np.random.default_rng(3)
    labels = np.repeat(np.array([0, 1, 2, 0, 1, 2])[:, None], 8, axis=1)
    labels[5] = -1
    cube = g.uniform(1.0, 1.2, size=(6, 8, 5)).astype(np.float32)  # as the SVM stores them
    for k in range(3):
        cube[labels == k, k] += 1.0
    return cube, labels


def test_mix_is_the_weighted_mean_of_cnn_and_svm_probabilities(small_scene):
    cube, labels = small_scene
    train = np.flatnonzero(labels.ravel() >= 0)[::2]
    mix = SVMMix.fit(cube, labels, train, weight=0.25, seed=1)
    svm = spectral_svm_proba(fit_spectral_svm(cube, labels, train, seed=1), cube,
                             np.arange(48), 3)
    cnn = np.tile([0.7, 0.2, 0.1], (48, 1))
    np.testing.assert_allclose(mix.mix_pixels(cnn, cube, np.arange(48)),
                               0.75 * cnn + 0.25 * svm)
    # a map's (H, W, K) probabilities with its (H, W, bands) cube: the same numbers
    np.testing.assert_allclose(mix.mix_map(cnn.reshape(6, 8, 3), cube).reshape(48, 3),
                               0.75 * cnn + 0.25 * svm)
    np.testing.assert_array_equal(mix.spectra, cube.reshape(48, 5)[train])
    np.testing.assert_array_equal(mix.labels, labels.ravel()[train])


def test_state_survives_a_checkpoint_and_gives_the_same_svm(tmp_path, small_scene):
    cube, labels = small_scene
    train = np.flatnonzero(labels.ravel() >= 0)
    mix = SVMMix.fit(cube, labels, train, weight=0.5, seed=2)
    save_checkpoint({"svm_mix": mix.to_state()}, tmp_path / "c.pt")  # weights_only on load
    again = SVMMix.from_state(load_checkpoint(tmp_path / "c.pt")["svm_mix"])
    spectra = cube.reshape(48, 5)
    assert (again.weight, again.seed) == (0.5, 2)
    np.testing.assert_array_equal(again.model.predict_proba(spectra),
                                  mix.model.predict_proba(spectra))


@pytest.mark.parametrize("weight", [-0.1, 1.5, True])
def test_weight_is_checked(small_scene, weight):
    cube, labels = small_scene
    with pytest.raises(ConfigError, match=r"weight must be a number in \[0, 1\]"):
        SVMMix.fit(cube, labels, np.arange(40), weight=weight)


@pytest.mark.parametrize("weight", [-0.1, 1.5, True, "half"])
def test_config_refuses_a_weight_outside_0_1(weight):
    with pytest.raises(ConfigError, match=r"svm_weight must be a number in \[0, 1\], got"):
        make_config("hsi", "quick", scene="indian_pines", svm_weight=weight)


def test_run_with_svm_weight_scores_maps_and_reloads_the_mix(tmp_path, user_scene):
    """The run's test OA is the mix of its CNN (scored here from the checkpoint without the
    SVM) and an SVM fitted on its training pixels only; evaluate and predict give the run's
    numbers and map again."""
    config = make_config("hsi", "quick", window=9, components=16, epochs=2, seeds=[0],
                         svm_weight=0.5, **user_scene)
    out = tmp_path / "run"
    metrics = pipeline.train(config, out, progress=False)
    scene = pipeline.load_scene_of(config)
    split = json.loads((out / "seed_0/split.json").read_text())
    train, test = np.asarray(split["train"]), np.asarray(split["test"])
    state = load_checkpoint(out / "seed_0/checkpoint.pt")["metadata"]["svm_mix"]
    np.testing.assert_array_equal(state["spectra"].numpy(),
                                  scene.cube.reshape(-1, 16)[train])  # training pixels only

    def cnn_only(saved):
        saved.metadata["svm_mix"] = None
        return inference.saved_proba(saved, scene, test)

    (cnn, ids), = rescore(out, domain="hsi", build=inference.model_from_metadata,
                          score=cnn_only, pattern="seed_*/checkpoint.pt")
    np.testing.assert_array_equal(ids, test)
    svm = spectral_svm_proba(fit_spectral_svm(scene.cube, scene.labels, train, seed=0),
                             scene.cube, test, scene.n_classes)
    truth = scene.labels.ravel()[test]
    mixed = ((0.5 * cnn + 0.5 * svm).argmax(1) == truth).mean()
    assert metrics["overall_accuracy"] == pytest.approx(mixed)
    parts = metrics["svm_mix"]
    assert parts["test_accuracy_mixed"] == pytest.approx(mixed)
    assert parts["test_accuracy_cnn"] == pytest.approx((cnn.argmax(1) == truth).mean())
    assert parts["test_accuracy_svm"] == pytest.approx((svm.argmax(1) == truth).mean())
    assert {"val_accuracy_cnn", "val_accuracy_svm", "val_accuracy_mixed"} <= set(parts)
    text = (out / "report.md").read_text()
    assert "spectral SVM's probabilities mixed in at weight 0.5" in text
    assert "the spectral SVM (and its scaling) on the training pixels only." in text
    assert (f"| test | {100 * parts['test_accuracy_cnn']:.2f} | "
            f"{100 * parts['test_accuracy_svm']:.2f} | {100 * mixed:.2f} |") in text
    again = inference.evaluate(out, progress=False)
    assert again["overall_accuracy"] == metrics["overall_accuracy"]
    inference.predict(out, user_scene["cube"], out=tmp_path / "pred", progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "pred/map.npy"),
                                  np.load(out / "seed_0/map.npy"))


def test_estimator_mixes_the_svm_into_its_probabilities(user_scene):
    cube, gt = np.load(user_scene["cube"]), np.load(user_scene["gt"])
    est = HSIClassifier("quick", window=9, components=16, epochs=1, svm_weight=0.5,
                        validation_fraction=0).fit(cube, gt)
    cnn_only = HSIClassifier("quick", window=9, components=16, epochs=1,
                             validation_fraction=0).fit(cube, gt)
    codes = np.searchsorted(est.classes_, gt)
    svm = spectral_svm_proba(fit_spectral_svm(cube, np.where(gt > 0, codes, -1),
                                              np.flatnonzero(gt.ravel() > 0)),
                             cube, np.arange(gt.size), 2).reshape(*gt.shape, 2)
    np.testing.assert_allclose(est.predict_proba(cube),
                               0.5 * cnn_only.predict_proba(cube) + 0.5 * svm, atol=1e-6)
    np.testing.assert_array_equal(est.predict(cube),
                                  est.classes_[est.predict_proba(cube).argmax(-1)])
    assert cnn_only.svm_mix_ is None


def test_export_says_the_svm_is_not_in_the_exported_file(tmp_path, user_scene, capsys):
    config = make_config("hsi", "quick", window=9, components=16, epochs=1, seeds=[0],
                         svm_weight=0.5, **user_scene)
    pipeline.train(config, tmp_path / "run", progress=False)
    code = main(["export", str(tmp_path / "run"), "--format", "torchscript",
                 "--out", str(tmp_path / "m.pt")])
    assert code == 0
    assert "note: the run mixes a spectral SVM into the CNN (weight 0.5)" in capsys.readouterr().out
    mix = json.loads((tmp_path / "m.pt.json").read_text())["svm_mix"]
    assert mix["weight"] == 0.5 and mix["exported"] is False


def test_a_class_with_one_training_pixel_counts_twice_in_the_calibration(small_scene):
    cube, labels = small_scene
    train = np.flatnonzero(labels.ravel() >= 0)
    lone = train[labels.ravel()[train] == 2][:1]
    train = np.concatenate([train[labels.ravel()[train] != 2], lone])  # class 2: one pixel
    mix = SVMMix.fit(cube, labels, train, weight=0.5, seed=0)
    spectra = cube.reshape(48, 5)
    np.testing.assert_array_equal(mix.spectra, spectra[train])  # stored once
    np.testing.assert_array_equal(mix.model.classes_, [0, 1, 2])
    twice = np.concatenate([train, lone])
    # the same model as one fitted by hand on the pixel given twice, on 2 calibration folds
    np.testing.assert_allclose(mix.model.predict_proba(spectra),
                               _by_hand(spectra[twice], labels.ravel()[twice], folds=2)
                               .predict_proba(spectra))


def _by_hand(x, y, folds):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC

    from spectranet.hsi.reduce import unit_normalise

    svm = CalibratedClassifierCV(SVC(C=100.0, gamma="scale", random_state=0), method="sigmoid",
                                 cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                                 ensemble=False)
    return make_pipeline(FunctionTransformer(unit_normalise), StandardScaler(), svm).fit(x, y)
