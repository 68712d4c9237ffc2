"""The spectral SVM member's choices on validation pixels (weight, window) and the SVM baseline
that every hyperspectral run reports."""

import json

import numpy as np
import pytest

from spectranet.config import make_config
from spectranet.engine.checkpoints import load_checkpoint
from spectranet.engine.run import rescore
from spectranet.errors import ConfigError
from spectranet.hsi import inference, pipeline
from spectranet.hsi.spectral_svm import (
    SVMMix,
    choose_neighbourhood,
    choose_weight,
    neighbourhood_mean,
)


def test_choose_weight_on_a_hand_checked_case():
    # class-0 probabilities; each mix p0(w) = (1 - w) * cnn + w * svm, class 0 when p0 > 0.5:
    # pixel 1 (truth 0): 0.68 - 0.38 w, right for w <= 0.4; pixel 2 (truth 1): 0.65 - 0.55 w,
    # right for w >= 0.3; pixel 3 (truth 1): 0.2 + 0.1 w, always right; pixel 4 (truth 0):
    # 0.45 + 0.45 w, right for w >= 0.2. All four only at 0.3 and 0.4: the nearer to 0.5 wins.
    cnn0, svm0 = np.array([0.68, 0.65, 0.2, 0.45]), np.array([0.3, 0.1, 0.3, 0.9])
    cnn, svm = np.stack([cnn0, 1 - cnn0], 1), np.stack([svm0, 1 - svm0], 1)
    weight, scores = choose_weight(cnn, svm, np.array([0, 1, 1, 0]))
    assert weight == 0.4
    assert (scores[0.0], scores[0.1], scores[0.3], scores[0.4], scores[1.0]) == (
        0.5, 0.5, 1.0, 1.0, 0.75)
    with pytest.raises(ConfigError, match="needs validation pixels"):
        choose_weight(cnn[:0], svm[:0], np.zeros(0, int))


def test_neighbourhood_mean_by_hand_inside_and_at_the_mirrored_border():
    cube = np.random.default_rng(0).normal(size=(5, 6, 2)).astype(np.float32)
    mean = neighbourhood_mean(cube, 3)
    np.testing.assert_allclose(mean[2, 2], cube[1:4, 1:4].mean((0, 1)), rtol=1e-6)
    # "reflect" repeats the edge row and column: the corner's window is rows 0, 0, 1
    np.testing.assert_allclose(mean[0, 0], cube[[0, 0, 1]][:, [0, 0, 1]].mean((0, 1)),
                               rtol=1e-6)
    np.testing.assert_array_equal(neighbourhood_mean(cube, 1), cube)
    for bad in (2, 0, True):
        with pytest.raises(ConfigError, match="neighbourhood must be an odd integer >= 1"):
            neighbourhood_mean(cube, bad)


def _noisy_halves(seed=0):
    """A 24 x 24 x 16 scene: class 0 on the left, class 1 on the right, spectra buried in noise
    (a pixel alone is often wrong, its neighbourhood's mean rarely)."""
    g = np.random.default_rng(seed)
    labels = np.zeros((24, 24), np.int64)
    labels[:, 12:] = 1
    cube = 5.0 + g.normal(scale=1.0, size=(24, 24, 16)).astype(np.float32)
    cube[labels == 1, :8] += 0.6
    return cube, labels


def test_choose_neighbourhood_prefers_a_window_where_pixels_are_noisy():
    cube, labels = _noisy_halves()
    pixels = np.random.default_rng(1).permutation(labels.size)
    train, val = pixels[:150], pixels[150:400]
    size, scores = choose_neighbourhood(cube, labels, train, val, seed=0)
    assert set(scores) == {1, 3, 5, 7}
    assert size == min(k for k, v in scores.items() if v == max(scores.values())) > 1
    assert scores[size] > scores[1] + 0.1
    y = labels.ravel()
    by_hand = SVMMix.fit(cube, labels, train, weight=1.0, neighbourhood=size)
    assert scores[size] == np.mean(by_hand.pixel_proba(cube, val, 2).argmax(1) == y[val])


@pytest.fixture
def noisy_scene(tmp_path):
    cube, labels = _noisy_halves()
    gt = labels + 3  # the scene's ids: 3 and 4
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)
    return {"cube": str(tmp_path / "cube.npy"), "gt": str(tmp_path / "gt.npy")}


def test_run_chooses_window_and_weight_on_validation_and_reports_the_svm_baseline(
        tmp_path, noisy_scene):
    config = make_config("hsi", "quick", window=9, components=16, epochs=2, seeds=[0],
                         svm_weight="auto", svm_neighbourhood="auto", **noisy_scene)
    out = tmp_path / "run"
    metrics = pipeline.train(config, out, progress=False)
    scene = pipeline.load_scene_of(config)
    split = {k: np.asarray(v) for k, v in
             json.loads((out / "seed_0/split.json").read_text()).items() if k in
             ("train", "val", "test")}
    y = scene.labels.ravel()
    size, _ = choose_neighbourhood(scene.cube, scene.labels, split["train"], split["val"], seed=0)
    mix = metrics["svm_mix"]
    assert mix["neighbourhood"] == size > 1

    def cnn_only(saved):
        saved.metadata["svm_mix"] = None
        return inference.saved_proba(saved, scene, split["val"])

    (cnn, ids), = rescore(out, domain="hsi", build=inference.model_from_metadata,
                          score=cnn_only, pattern="seed_*/checkpoint.pt")
    svm = SVMMix.fit(scene.cube, scene.labels, split["train"], weight=1.0, neighbourhood=size)
    weight, _ = choose_weight(cnn, svm.pixel_proba(scene.cube, ids, 2), y[ids])
    assert mix["weight"] == weight
    state = load_checkpoint(out / "seed_0/checkpoint.pt")["metadata"]["svm_mix"]
    assert (state["weight"], state["neighbourhood"]) == (weight, size)  # what evaluate reads
    assert inference.evaluate(out, progress=False)["overall_accuracy"] == \
        metrics["overall_accuracy"]
    # the baseline: the pixel SVM alone on the same training and test pixels
    alone = SVMMix.fit(scene.cube, scene.labels, split["train"], weight=1.0)
    expected = np.mean(alone.pixel_proba(scene.cube, split["test"], 2).argmax(1)
                       == y[split["test"]])
    assert metrics["svm_baseline"]["overall_accuracy"] == pytest.approx(expected)
    report = (out / "report.md").read_text()
    assert "## Against the spectral SVM (same training and test pixels)" in report
    assert (f"| 0 | {100 * metrics['overall_accuracy']:.2f} | {100 * expected:.2f} |"
            in report)
    assert (f"seed 0: weight {weight}, the SVM's window {size} x {size}" in report)


@pytest.mark.parametrize(("options", "message"), [
    ({"svm_weight": "auto", "validation": "none"},
     "svm_weight 'auto' is chosen on the validation pixels: not with validation 'none'"),
    ({"svm_weight": 0.5, "svm_neighbourhood": "auto", "validation": "none"},
     "svm_neighbourhood 'auto' is chosen on the validation pixels"),
    ({"svm_weight": 0.5, "svm_neighbourhood": 4},
     "svm_neighbourhood must be an odd integer >= 1 or 'auto', got 4"),
    ({"svm_weight": "half"}, r"svm_weight must be a number in \[0, 1\], got 'half'"),
])
def test_config_refuses_bad_svm_choices(options, message):
    with pytest.raises(ConfigError, match=message):
        make_config("hsi", "quick", scene="indian_pines", **options)


def test_estimator_chooses_window_and_weight_on_its_held_out_pixels():
    from spectranet.hsi.estimator import HSIClassifier

    cube, labels = _noisy_halves()
    est = HSIClassifier("quick", window=9, components=16, epochs=1, svm_weight="auto",
                        svm_neighbourhood="auto", validation_fraction=0.3).fit(cube, labels + 3)
    assert est.svm_mix_.neighbourhood > 1 and est.svm_mix_.weight in [k / 10 for k in range(11)]
    with pytest.raises(ConfigError, match="give validation_fraction > 0"):
        HSIClassifier("quick", window=9, components=16, epochs=1, svm_weight="auto",
                      validation_fraction=0).fit(cube, labels + 3)
