"""Spherical k-means features of log-mel patches (Chen et al.'s Table 4, row [38])."""

import json

import numpy as np
import pytest
from sklearn.utils import estimator_checks

from spectranet.audio.baseline import BaselineConfig, mfcc_baseline, train
from spectranet.audio.datasets import load_clips
from spectranet.audio.feature_learning import (
    SphericalKMeansFeatures,
    encode_patches,
    mel_patches,
    pool_codes,
    spherical_kmeans,
)
from spectranet.audio.protocol import fold_split
from spectranet.audio.ufl_baseline import clip_log_mels, ufl_baseline
from spectranet.errors import ConfigError, DataError, NotFittedError

PER_CLASS = {1: 3, 2: 1, 3: 1}  # clips per class: fold 1 trains, 2 validates, 3 tests


@pytest.fixture(scope="module")
def real(tmp_path_factory, us8k_folder):
    """50 real UrbanSound8K clips (10 classes) and their 40-band log-mel spectrograms."""
    folder = us8k_folder(tmp_path_factory.mktemp("ufl"), PER_CLASS)
    clips = load_clips(folder)
    return clips, clip_log_mels(clips), folder


def _small(seed=0):
    return SphericalKMeansFeatures(16, max_patches=2000, n_iter=5, random_state=seed)


def test_patches_stack_consecutive_frames_band_major():
    spec = np.array([[0.0, 1, 2, 3], [10, 11, 12, 13]])
    np.testing.assert_array_equal(mel_patches(spec, patch_frames=2),
                                  [[0, 1, 10, 11], [1, 2, 11, 12], [2, 3, 12, 13]])
    np.testing.assert_array_equal(mel_patches(spec, patch_frames=2, hop=2),
                                  [[0, 1, 10, 11], [2, 3, 12, 13]])
    # shorter than one patch: repeated along time
    np.testing.assert_array_equal(mel_patches(np.array([[5.0], [7.0]]), patch_frames=3),
                                  [[5, 5, 5, 7, 7, 7]])


def test_encoding_and_pooling_equal_a_hand_computation():
    patches = np.array([[1.0, 4.0], [3.0, 0.0]])
    whitening = np.diag([2.0, 0.5])  # whitened: (2, 2) and (6, 0); unit: (.7071, .7071), (1, 0)
    centroids = np.array([[1.0, 0.0], [0.6, 0.8]])
    codes = encode_patches(patches, mean=np.zeros(2), whitening=whitening, centroids=centroids)
    r = np.sqrt(0.5)
    np.testing.assert_allclose(codes, [[r, 1.4 * r], [1.0, 0.6]])
    shifted = encode_patches(patches + 1, mean=np.ones(2), whitening=whitening,
                             centroids=centroids)
    np.testing.assert_allclose(shifted, codes)  # the mean is removed before whitening
    np.testing.assert_allclose(pool_codes(codes), [(r + 1) / 2, (1.4 * r + 0.6) / 2,
                                                   (1 - r) / 2, abs(1.4 * r - 0.6) / 2])


def test_spherical_kmeans_finds_two_directions_with_unit_centroids(rng):
    a = np.array([1.0, 0.0, 0.0]) + rng.normal(0, 0.05, (200, 3))
    b = np.array([0.0, 3.0, 0.0]) + rng.normal(0, 0.15, (200, 3))  # length does not count
    c = spherical_kmeans(np.vstack([a, b]), 2, rng=np.random.default_rng(1))
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1.0)
    found = c[np.argsort(c[:, 1])]
    np.testing.assert_allclose(found, [[1, 0, 0], [0, 1, 0]], atol=0.02)


def test_real_clips_shapes_unit_centroids_and_encoding(real):
    clips, specs, _ = real
    assert all(s.shape[0] == 40 for s in specs)
    train_rows = fold_split(clips.folds, 3)["train"]
    learner = _small().fit([specs[i] for i in train_rows])
    assert learner.centroids_.shape == (16, learner.pca_.n_components_)
    np.testing.assert_allclose(np.linalg.norm(learner.centroids_, axis=1), 1.0)
    assert learner.n_patches_fit_ == 2000 and learner.n_mels_ == 40
    x = learner.transform(specs)
    assert x.shape == (len(clips), 32) and np.isfinite(x).all()
    assert np.all(np.abs(x[:, :16]) <= 1 + 1e-9) and np.all(x[:, 16:] >= 0)
    # the whitening is the fitted PCA's; one clip's feature by hand from its pieces
    mean, matrix = learner.whitening()
    patches = mel_patches(specs[0], patch_frames=16)
    np.testing.assert_allclose((patches - mean) @ matrix, learner.pca_.transform(patches),
                               atol=1e-9)
    white = learner.pca_.transform(patches)
    unit = white / np.linalg.norm(white, axis=1, keepdims=True)
    codes = unit @ learner.centroids_.T
    np.testing.assert_allclose(x[0], np.concatenate([codes.mean(0), codes.std(0)]), atol=1e-9)


def test_same_seed_same_features_and_transform_leaves_the_fit_alone(real):
    clips, specs, _ = real
    split = fold_split(clips.folds, 3)
    fitted = [specs[i] for i in split["train"]]
    one, two = _small().fit(fitted), _small().fit(fitted)
    np.testing.assert_array_equal(one.centroids_, two.centroids_)
    before = (one.pca_.mean_.copy(), one.pca_.components_.copy(), one.centroids_.copy())
    test = [specs[i] for i in split["test"]]
    np.testing.assert_array_equal(one.transform(test), two.transform(test))
    for kept, now in zip(before, (one.pca_.mean_, one.pca_.components_, one.centroids_),
                         strict=True):
        np.testing.assert_array_equal(kept, now)
    assert not np.array_equal(_small(seed=1).fit(fitted).centroids_, one.centroids_)


def test_round_learns_whitening_and_dictionary_on_training_clips_only(real):
    clips, specs, _ = real
    split = fold_split(clips.folds, 3)
    learner = _small()
    result = ufl_baseline(clips, specs, test_fold=3, learner=learner)
    alone = _small().fit([specs[i] for i in split["train"]])
    np.testing.assert_array_equal(learner.pca_.mean_, alone.pca_.mean_)
    np.testing.assert_array_equal(learner.centroids_, alone.centroids_)
    with_test = _small().fit([specs[i] for i in np.concatenate([split["train"], split["test"]])])
    assert not np.allclose(with_test.pca_.mean_, learner.pca_.mean_)
    assert result["split"]["train"] == split["train"].tolist()
    assert set(result["split"]["train"]).isdisjoint(result["split"]["test"])
    assert result["test_clips"] == 10 and result["val_clips"] == 10
    assert len(result["clip_pred"]) == 10 and 0 <= result["clip_accuracy"] <= 1
    again = ufl_baseline(clips, specs, test_fold=3, learner=_small())
    np.testing.assert_array_equal(again["clip_pred"], result["clip_pred"])


def test_baseline_config_ufl_runs_as_a_baseline(real, tmp_path):
    clips, _, folder = real
    config = BaselineConfig(dataset=str(folder), classifier="ufl",
                            folds=[3])
    metrics = train(config, tmp_path / "run")
    assert metrics["classifier"] == "ufl" and metrics["n_features"] == 2048
    assert [f["fold"] for f in metrics["folds"]] == [3]
    saved = json.loads((tmp_path / "run" / "fold_3" / "metrics.json").read_text())
    assert saved["chosen"]["n_centroids"] == 1024 and saved["test_clips"] == 10
    with pytest.raises(ConfigError, match="learns its own features"):
        mfcc_baseline(clips, test_fold=3, classifier="ufl")


@pytest.mark.parametrize("params, match", [
    ({"n_centroids": 0}, "n_centroids must be an integer >= 1"),
    ({"n_components": 1.5}, "n_components must be a float in"),
    ({"max_patches": 8}, "max_patches must be an integer >= 16"),
    ({"random_state": -1}, "random_state must be an integer >= 0"),
])
def test_bad_parameters_are_refused_at_fit(params, match):
    specs = [np.zeros((4, 40))]
    with pytest.raises(ConfigError, match=match):
        SphericalKMeansFeatures(**({"n_centroids": 16} | params)).fit(specs)


def test_bad_spectrograms_are_refused(real):
    _, specs, _ = real
    with pytest.raises(DataError, match="sequence of"):
        _small().fit(specs[0])
    with pytest.raises(DataError, match=r"X\[1\] must be finite"):
        _small().fit([specs[0], np.full((40, 30), np.nan)])
    with pytest.raises(DataError, match="fewer than n_centroids=16"):
        _small().fit([np.zeros((40, 20))])  # 5 patches
    with pytest.raises(NotFittedError, match="not fitted"):
        _small().transform(specs[:1])
    learner = _small().fit(specs[:10])
    with pytest.raises(DataError, match=r"X\[0\] must have 40 mel bands, got 64"):
        learner.transform([np.zeros((64, 30))])


@pytest.mark.parametrize("check", [
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_get_params_invariance,
    estimator_checks.check_set_params,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
    estimator_checks.check_estimator_cloneable,
    estimator_checks.check_estimator_repr,
    estimator_checks.check_mixin_order,
    estimator_checks.check_estimators_unfitted,
], ids=lambda c: c.__name__)
def test_sklearn_checks_that_apply(check):
    # spectrogram lists are not 2-D sample matrices: check_estimator as a whole does not apply
    check("SphericalKMeansFeatures", SphericalKMeansFeatures())
