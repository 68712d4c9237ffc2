import json

import numpy as np
import pytest

from spectranet.config import make_config
from spectranet.engine.run import rescore
from spectranet.errors import ConfigError, DataError
from spectranet.hsi import inference, pipeline
from spectranet.hsi.ensemble import ensemble, score_ensemble


def test_mean_probabilities_by_hand():
    # truth: class 0 everywhere. Member a is right on pixels 0 and 2, b on pixel 1 only; the
    # mean probabilities of class 0 are 0.65, 0.65, 0.525: right everywhere. A majority vote
    # of the two members would tie on pixels 0 and 1.
    a = np.array([[0.9, 0.1], [0.4, 0.6], [0.6, 0.4]])
    b = np.array([[0.4, 0.6], [0.9, 0.1], [0.45, 0.55]])
    scored = score_ensemble([a, b], np.array([0, 0, 0]), n_classes=2)
    assert [m["overall_accuracy"] for m in scored["members"]] == pytest.approx([2 / 3, 1 / 3])
    assert scored["ensemble"]["overall_accuracy"] == 1.0
    np.testing.assert_allclose(scored["probabilities"][:, 0], [0.65, 0.65, 0.525])
    # one member is its own ensemble
    alone = score_ensemble([a], np.array([0, 1, 1]), n_classes=2)
    assert alone["ensemble"] == alone["members"][0]


def test_score_ensemble_errors():
    with pytest.raises(DataError, match="at least one member"):
        score_ensemble([], np.array([0]), n_classes=2)
    with pytest.raises(DataError, match=r"member 1's probabilities must have shape \(2, 2\)"):
        score_ensemble([np.ones((2, 2)), np.ones((3, 2))], np.array([0, 1]), n_classes=2)


def test_ensemble_of_a_run_with_a_split_seed(tmp_path, user_scene):
    files = user_scene
    config = make_config("hsi", "quick", window=9, components=16, epochs=2, seeds=[0, 1],
                         split_seed=4, **files)
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    result = ensemble(out)
    assert result["n_members"] == 2 and [m["seed"] for m in result["members"]] == [0, 1]
    # each member scores its test set as the training run did
    for member in result["members"]:
        saved = json.loads((out / f"seed_{member['seed']}/metrics.json").read_text())
        assert member["test"]["overall_accuracy"] == pytest.approx(saved["overall_accuracy"])
    # the ensemble: arg-max of the mean of the members' probabilities, computed here directly
    split = json.loads((out / "seed_0/split.json").read_text())
    scene = pipeline.load_scene_of(config)
    pixels = np.asarray(split["test"])
    probs = rescore(out, domain="hsi", build=inference.model_from_metadata,
                    score=lambda saved: inference.saved_proba(saved, scene, pixels),
                    pattern="seed_*/checkpoint.pt")
    for _, ids in probs:
        np.testing.assert_array_equal(ids, pixels)
    mean = np.mean([p for p, _ in probs], axis=0)
    expected = (mean.argmax(1) == scene.labels.ravel()[pixels]).mean()
    assert result["ensemble"]["test"]["overall_accuracy"] == pytest.approx(expected)
    assert result["split_sizes"]["test"] == len(pixels)


def test_ensemble_of_runs_without_validation_scores_the_test_set(tmp_path, user_scene):
    config = make_config("hsi", "quick", window=9, components=16, epochs=2, seeds=[0, 1],
                         split_seed=4, validation="none", **user_scene)
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    result = ensemble(out)
    assert set(result["ensemble"]) == {"test"} and result["split_sizes"]["val"] == 0
    for member in result["members"]:
        saved = json.loads((out / f"seed_{member['seed']}/metrics.json").read_text())
        assert member["test"]["overall_accuracy"] == pytest.approx(saved["overall_accuracy"])


def test_spectral_svm_mixed_into_the_ensemble(tmp_path, user_scene):
    """svm_weight 1 scores the SVM alone (as fitted here directly), 0 < w < 1 the mix; the SVM
    is fitted on the split's training pixels only and ignores each spectrum's brightness."""
    from spectranet.hsi.spectral_svm import fit_spectral_svm, spectral_svm_proba

    config = make_config("hsi", "quick", window=9, components=16, epochs=1, seeds=[0],
                         split_seed=1, **user_scene)
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    scene = pipeline.load_scene_of(config)
    split = json.loads((out / "seed_0/split.json").read_text())
    svm = fit_spectral_svm(scene.cube, scene.labels, np.asarray(split["train"]))
    test = np.asarray(split["test"])
    proba = spectral_svm_proba(svm, scene.cube, test, scene.n_classes)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    bright = spectral_svm_proba(svm, 3.0 * scene.cube, test, scene.n_classes)
    np.testing.assert_allclose(bright, proba, atol=1e-6)  # unit length: brightness removed
    truth = scene.labels.ravel()[test]
    alone = ensemble(out, svm_weight=1.0)
    assert alone["svm"]["test"]["overall_accuracy"] == pytest.approx(
        (proba.argmax(1) == truth).mean())
    assert alone["mixed"]["test"] == alone["svm"]["test"]
    cnn = rescore(out, domain="hsi", build=inference.model_from_metadata,
                  score=lambda saved: inference.saved_proba(saved, scene, test)[0],
                  pattern="seed_*/checkpoint.pt")[0]
    half = ensemble(out, svm_weight=0.5)["mixed"]["test"]["overall_accuracy"]
    assert half == pytest.approx(((0.5 * cnn + 0.5 * proba).argmax(1) == truth).mean())
    assert set(ensemble(out)) == {"n_members", "members", "ensemble", "split_sizes"}
    with pytest.raises(ConfigError, match=r"svm_weight must be a number in \[0, 1\], got 1.5"):
        ensemble(out, svm_weight=1.5)


def test_ensemble_refuses_members_of_other_splits(tmp_path, user_scene):
    files = user_scene
    config = make_config("hsi", "quick", window=9, components=16, epochs=1, seeds=[0, 1],
                         **files)
    pipeline.train(config, tmp_path / "run", progress=False)
    with pytest.raises(DataError, match="seed_1/split.json: not the split of the first member"):
        ensemble(tmp_path / "run")


def test_spectral_svm_trains_on_a_class_with_one_pixel_and_refuses_unlabelled_ones():
    from spectranet.hsi.spectral_svm import fit_spectral_svm

    rng = np.random.default_rng(0)
    cube = rng.uniform(1, 2, size=(4, 5, 3))
    labels = np.array([[0] * 5, [0] * 5, [1] * 5, [1, 1, 1, 1, 2]])
    np.testing.assert_array_equal(fit_spectral_svm(cube, labels, np.arange(20)).classes_,
                                  [0, 1, 2])
    labels[0, 0] = -1
    with pytest.raises(DataError, match="training pixels must be labelled"):
        fit_spectral_svm(cube, labels, np.arange(20))
    labels[0, 0] = 0
    model = fit_spectral_svm(cube, labels, np.arange(19))  # classes 0 and 1, 10 and 9 pixels
    np.testing.assert_array_equal(model.classes_, [0, 1])
