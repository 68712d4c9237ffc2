"""HSIClassifier: scikit-learn conventions, real Indian Pines crop, synthetic edge cases.

scikit-learn's checks that apply run in tests/test_estimator_checks.py. ``check_estimator`` as a
whole does not apply: its checks fit on 2-D (n_samples, n_features) matrices and 1-D targets,
while this estimator takes a (rows, cols, bands) cube and a (rows, cols) label map. Those checks
are replaced here by their ideas on cubes: fit twice with one seed = same result
(check_fit_idempotent), ``get_params`` unchanged by fit (check_dont_overwrite_parameters,
check_estimators_overwrite_params), ``check_is_fitted`` before/after fit
(check_fit_check_is_fitted), pickle round trip (check_estimators_pickle), non-contiguous class
ids (check_classifiers_classes), NaN and malformed inputs rejected (check_estimators_nan_inf,
check_fit2d_*). check_n_features_in does not apply: a cube's features are its bands, checked
against ``n_bands_in_``.
"""

import pickle

import joblib
import numpy as np
import pytest
import sklearn.exceptions
import torch
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils.validation import check_is_fitted

from spectranet.errors import ConfigError, DataError, NotFittedError
from spectranet.hsi import HSIClassifier, load_scene, random_split

torch.set_num_threads(1)

# A small, fast recipe: conv2d takes 5 x 5 patches (the fast 3D CNN needs >= 9 x 9 and >= 15
# components), fp32 so results do not depend on the CPU's bfloat16 support.
FAST = {"model": "conv2d", "window": 5, "components": 4, "epochs": 2, "batch_size": 32,
        "precision": "fp32"}


def test_clone_keeps_params_and_drops_fitted_state(synthetic_fit):
    est = HSIClassifier("quick", window=7, lr=0.003, validation_fraction=0.2, seed=4)
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    fitted = synthetic_fit[0]
    assert not hasattr(clone(fitted), "model_")
    assert clone(fitted).get_params() == fitted.get_params()


# --------------------------------------------------------------------------- synthetic
def _scene(rng, ids=(3, 9), shape=(16, 16), bands=8):
    """Two classes in the left and right halves with distinct spectra; some pixels unlabelled."""
    h, w = shape
    right = np.broadcast_to(np.arange(w) >= w // 2, shape)
    label_map = np.where(right, ids[1], ids[0]).astype(np.int64)
    label_map[::4, ::3] = 0
    spectra = rng.normal(size=(2, bands)) * 3
    cube = spectra[right.astype(int)] + rng.normal(scale=0.3, size=(h, w, bands))
    return cube.astype(np.float32), label_map


def _with_nan(cube):
    cube = cube.copy()
    cube[3, 3, 0] = np.nan
    return cube


@pytest.fixture(scope="module")
def synthetic_fit():
    cube, label_map = _scene(np.random.default_rng(0))
    return HSIClassifier("quick", **FAST).fit(cube, label_map), cube, label_map


def test_synthetic_fit_predicts_user_ids_and_probabilities(synthetic_fit):
    est, cube, label_map = synthetic_fit
    np.testing.assert_array_equal(est.classes_, [3, 9])
    pred, proba = est.predict(cube), est.predict_proba(cube)
    assert pred.shape == (16, 16) and set(np.unique(pred)) <= {3, 9}
    assert proba.shape == (16, 16, 2) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=2), 1, atol=1e-5)
    np.testing.assert_array_equal(pred, est.classes_[proba.argmax(axis=2)])
    labelled = label_map != 0
    assert est.score(cube, label_map) == np.mean(pred[labelled] == label_map[labelled])
    assert est.score(cube, np.where(labelled, 5, 0)) == 0  # an id never seen at fit
    assert est.n_bands_in_ == 8 and len(est.history_) == 2


def test_fit_does_not_change_params_and_passes_check_is_fitted():
    cube, label_map = _scene(np.random.default_rng(1))
    est = HSIClassifier("quick", **FAST)
    before = joblib.hash(est.get_params())
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(est)
    est.fit(cube, label_map)
    check_is_fitted(est)
    assert joblib.hash(est.get_params()) == before


def test_pickle_round_trip_predicts_the_same(synthetic_fit):
    est, cube, _ = synthetic_fit
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(cube), est.predict_proba(cube))


def test_validation_fraction_zero_keeps_last_epoch():
    cube, label_map = _scene(np.random.default_rng(2))
    est = HSIClassifier("quick", **FAST, validation_fraction=0).fit(cube, label_map)
    assert est.best_epoch_ == 2
    assert all(h["val_accuracy"] is None for h in est.history_)
    held = HSIClassifier("quick", **FAST, validation_fraction=0.3).fit(cube, label_map)
    assert all(0 <= h["val_accuracy"] <= 1 for h in held.history_)


def test_schedule_reaches_the_optimiser():
    """A one-epoch onecycle has no warm-up epoch and runs at its final rate, lr / 25 / 1e4."""
    cube, label_map = _scene(np.random.default_rng(2))
    options = FAST | {"epochs": 1, "validation_fraction": 0, "lr": 0.01}
    init = HSIClassifier("quick", **(options | {"lr": 1e-12})).fit(cube, label_map)  # ~ the start
    start = torch.nn.utils.parameters_to_vector(init.model_.parameters())

    def step(scheduler):
        est = HSIClassifier("quick", **options, scheduler=scheduler).fit(cube, label_map)
        return (torch.nn.utils.parameters_to_vector(est.model_.parameters()) - start).norm()

    assert step("onecycle") < 1e-4 * step("none")


def test_predict_before_fit_raises_not_fitted():
    cube, label_map = _scene(np.random.default_rng(0))
    est = HSIClassifier()
    for call in (lambda: est.predict(cube), lambda: est.predict_proba(cube),
                 lambda: est.score(cube, label_map)):
        with pytest.raises(NotFittedError, match="HSIClassifier is not fitted"):
            call()
        with pytest.raises(sklearn.exceptions.NotFittedError):
            call()


@pytest.mark.parametrize("change, error, match", [
    (lambda c, m: (c[:, :, 0], m), DataError, r"cube must be .*3-D .* got shape \(16, 16\)"),
    (lambda c, m: (c.astype(complex), m), DataError, "cube must hold real numbers"),
    (lambda c, m: (c, m[:, :12]), DataError, r"label_map has shape \(16, 12\) .* differ"),
    (lambda c, m: (c, m[..., None]), DataError, "label_map must be a 2-D"),
    (lambda c, m: (c, m + 0.5), DataError, "label_map must hold integer class ids"),
    (lambda c, m: (c, m - 4), DataError, "label_map must hold ids >= 0"),
    (lambda c, m: (c, np.where(m == 9, 0, m)), DataError, r"at least 2 classes .* got \[3\]"),
    (lambda c, m: (_with_nan(c), m), DataError, "cube must hold finite values"),
])
def test_malformed_inputs_name_the_problem(change, error, match):
    cube, label_map = change(*_scene(np.random.default_rng(0)))
    with pytest.raises(error, match=match):
        HSIClassifier("quick", **FAST).fit(cube, label_map)


@pytest.mark.parametrize("options, match", [
    ({"window": 4}, "window must be an odd integer >= 3, got 4"),
    ({"window": 17}, r"window must not exceed the scene's smaller side \(16\), got 17"),
    ({"components": 9},
     r"components must be <= the cube's 8 bands \(the cube given to fit\), got 9"),
    ({"validation_fraction": 1.0}, r"validation_fraction must be a number in \[0, 1\)"),
    ({"lr": -1.0}, "lr must be a number > 0"),
    ({"model": "resnet"}, "model must be one of"),
    ({"scheduler": "step"}, "scheduler must be one of 'none', 'cosine', 'onecycle'"),
    ({"preset": "fast"}, "preset must be one of"),
    ({"seed": -1}, "seed must be an integer >= 0, got -1"),
])
def test_invalid_options_raise_config_error_at_fit(options, match):
    cube, label_map = _scene(np.random.default_rng(0))
    est = HSIClassifier(**({"preset": "quick"} | FAST | options))  # stored unchecked
    with pytest.raises(ConfigError, match=match):
        est.fit(cube, label_map)


def test_tiny_class_with_validation_names_the_class_id():
    cube, label_map = _scene(np.random.default_rng(0))
    label_map[0, 0], label_map[0, 1] = 7, 7
    with pytest.raises(DataError, match="class 7 has 2 labelled pixels"):
        HSIClassifier("quick", **FAST, validation_fraction=0.5).fit(cube, label_map)
    est = HSIClassifier("quick", **FAST, validation_fraction=0).fit(cube, label_map)
    np.testing.assert_array_equal(est.classes_, [3, 7, 9])


def test_predict_and_score_check_the_new_cube(synthetic_fit):
    est, cube, label_map = synthetic_fit
    with pytest.raises(DataError, match="cube must have 8 bands as at fit, got 6"):
        est.predict(cube[:, :, :6])
    with pytest.raises(DataError, match=r"at least 5 x 5 pixels \(the window\), got 4 x 16"):
        est.predict(cube[:4])
    with pytest.raises(DataError, match="must hold a labelled pixel"):
        est.score(cube, np.zeros_like(label_map))
    with pytest.raises(DataError, match=r"label_map has shape \(8, 16\)"):
        est.score(cube, label_map[:8])


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def crop(data_root):
    """A 40 x 40 crop of Indian Pines (8 classes, 1238 labelled pixels), ids times 10."""
    scene = load_scene("indian_pines", root=data_root)
    ids = np.asarray(scene.class_ids)[scene.labels] * 10
    label_map = np.where(scene.labels >= 0, ids, 0)[40:80, 5:45]
    return np.ascontiguousarray(scene.cube[40:80, 5:45]), label_map


REAL = FAST | {"components": 10, "epochs": 3, "batch_size": 64}


@pytest.fixture(scope="module")
def crop_fit(crop):
    return HSIClassifier("quick", **REAL).fit(*crop)


def test_real_crop_predicts_the_users_ids(crop, crop_fit):
    _, label_map = crop
    user_ids = np.unique(label_map[label_map > 0])
    assert set(user_ids.tolist()) == {20, 30, 40, 50, 60, 90, 110, 120}
    np.testing.assert_array_equal(crop_fit.classes_, user_ids)
    pred = crop_fit.predict(crop[0])
    assert pred.shape == (40, 40) and set(np.unique(pred).tolist()) <= set(user_ids.tolist())


def test_real_crop_scores_well_above_chance(crop, crop_fit):
    _, label_map = crop
    majority = np.bincount(label_map[label_map > 0]).max() / np.count_nonzero(label_map)
    assert majority < 0.25  # always predicting the largest class
    assert crop_fit.score(*crop) > 0.6


def test_same_seed_same_predictions_other_seed_differs(crop, crop_fit):
    cube, label_map = crop
    again = HSIClassifier("quick", **REAL).fit(cube, label_map)
    np.testing.assert_array_equal(again.predict_proba(cube), crop_fit.predict_proba(cube))
    np.testing.assert_array_equal(again.predict(cube), crop_fit.predict(cube))
    other = HSIClassifier("quick", **REAL, seed=1).fit(cube, label_map)
    assert not np.array_equal(other.predict_proba(cube), crop_fit.predict_proba(cube))


def test_parameter_grid_on_a_split_label_map(crop):
    """Model selection the way the class docstring shows: split the label map, not the cube."""
    cube, label_map = crop
    classes, codes = np.unique(label_map, return_inverse=True)
    split = random_split(codes.reshape(label_map.shape) - 1, seed=0)  # 0 (unlabelled) -> -1
    train_mask, val_mask, _ = split.masks(label_map.shape)
    train, val = np.where(train_mask, label_map, 0), np.where(val_mask, label_map, 0)
    base = HSIClassifier("quick", **REAL)
    scores = {}
    for params in ParameterGrid({"window": [5, 7], "lr": [0.001]}):
        est = clone(base).set_params(**params)
        assert est.get_params() == base.get_params() | params
        scores[params["window"]] = est.fit(cube, train).score(cube, val)
        assert est.config_.window == params["window"]
    assert set(scores) == {5, 7}
    assert all(0.5 < s <= 1 for s in scores.values())  # held-out pixels; chance is < 0.25
