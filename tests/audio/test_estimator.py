"""SoundClassifier: scikit-learn conventions, real UrbanSound8K clips, synthetic edge cases.

scikit-learn's checks that apply run in tests/test_estimator_checks.py. ``check_estimator`` as a
whole does not apply: its checks fit on 2-D numeric (n_samples, n_features) matrices, while this
estimator takes a list of audio files or of waveforms of any length. Their ideas are tested here
on clips instead: same seed = same result (check_fit_idempotent), ``get_params`` unchanged by
fit (check_dont_overwrite_parameters, check_estimators_overwrite_params), ``check_is_fitted``
before/after fit (check_fit_check_is_fitted), pickle round trip (check_estimators_pickle),
string and non-contiguous labels (check_classifiers_classes, check_classifiers_one_label), NaN
and malformed inputs (check_estimators_nan_inf, check_fit2d_*), and use inside
``cross_val_score``. check_n_features_in does not apply: clips have no fixed number of features.
"""

import copy
import pickle

import joblib
import numpy as np
import pytest
import sklearn.exceptions
import torch
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils.validation import check_is_fitted

from spectranet.audio import SoundClassifier, load_audio, load_clips
from spectranet.audio.decoding import resample_audio
from spectranet.errors import ConfigError, DataError, DataNotFoundError, NotFittedError

torch.set_num_threads(1)

# Tiny filters, two epochs, one feature process, fp32 (results independent of bf16 support).
TINY = {"filters": [4, 4, 8, 8], "epochs": 2, "batch_size": 16, "jobs": 1, "precision": "fp32"}
CLASSES = ("children_playing", "dog_bark", "jackhammer", "siren")


def test_clone_keeps_params():
    est = SoundClassifier("quick", sr=16000, filters=[8, 8, 16, 16], lr=0.01, seed=3)
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert copy.filters == [8, 8, 16, 16] and copy.filters is not est.filters


# --------------------------------------------------------------------------- synthetic
SR = 8000


def _tones(rng, labels, seconds=1.0):
    """One noisy tone per label: its frequency depends on the label."""
    t = np.arange(int(seconds * SR)) / SR
    freqs = {label: 300.0 * (k + 1) for k, label in enumerate(sorted(set(labels)))}
    return [(0.5 * np.sin(2 * np.pi * freqs[lab] * t)
             + 0.05 * rng.normal(size=t.size)).astype(np.float32) for lab in labels]


@pytest.fixture(scope="module")
def tone_fit():
    y = [3, 7] * 5
    X = _tones(np.random.default_rng(0), y)
    return SoundClassifier("quick", sr=SR, **TINY).fit(X, y), X, y


def test_waveforms_with_int_labels(tone_fit):
    est, X, y = tone_fit
    np.testing.assert_array_equal(est.classes_, [3, 7])
    assert set(est.predict(X).tolist()) <= {3, 7}
    proba = est.predict_proba(X)
    assert proba.shape == (10, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert 0 <= est.score(X, y) <= 1 and len(est.history_) == 2


def test_fit_does_not_change_params_and_passes_check_is_fitted():
    y = ["a", "b"] * 3
    X = _tones(np.random.default_rng(1), y, seconds=0.5)
    est = SoundClassifier("quick", sr=SR, **TINY)
    before = joblib.hash(est.get_params())
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(est)
    est.fit(X, y)
    check_is_fitted(est)
    assert joblib.hash(est.get_params()) == before


def test_pickle_round_trip_predicts_the_same(tone_fit):
    est, X, _ = tone_fit
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_validation_fraction_holds_out_clips(tone_fit):
    _, X, y = tone_fit
    held = SoundClassifier("quick", sr=SR, **TINY, validation_fraction=0.2).fit(X, y)
    assert all(0 <= h["val_accuracy"] <= 1 for h in held.history_)
    assert all(h["val_accuracy"] is None for h in tone_fit[0].history_)  # quick: no hold-out
    assert tone_fit[0].best_epoch_ == 2


def test_predict_before_fit_raises_not_fitted(tone_fit):
    _, X, y = tone_fit
    est = SoundClassifier()
    for call in (lambda: est.predict(X), lambda: est.predict_proba(X), lambda: est.score(X, y)):
        with pytest.raises(NotFittedError, match="SoundClassifier is not fitted"):
            call()
        with pytest.raises(sklearn.exceptions.NotFittedError):
            call()


def _nan(x):
    x = x.copy()
    x[5] = np.nan
    return x


@pytest.mark.parametrize("change, error, match", [
    (lambda X, y: ("clip.wav", y), DataError, "X must be a sequence .* got str"),
    (lambda X, y: ([], []), DataError, "X must hold at least one clip"),
    (lambda X, y: (X[:-1], y), DataError, "y has 10 labels for 9 clips in X"),
    (lambda X, y: ([np.stack([X[0], X[0]])] + X[1:], y), DataError,
     r"X\[0\] must be an audio file path or a non-empty 1-D float waveform, .*\(2, 8000\)"),
    (lambda X, y: (X[:3] + [(X[3] * 1000).astype(np.int16)] + X[4:], y), DataError,
     r"X\[3\] .* got int16"),
    (lambda X, y: (X[:1] + [_nan(X[1])] + X[2:], y), DataError, r"X\[1\] must hold finite"),
    (lambda X, y: (X, [1] * 10), DataError, r"at least 2 distinct labels, got \[1\]"),
    (lambda X, y: (X, "ab" * 5), DataError, "y must be a sequence of labels, got str"),
    (lambda X, y: (X[:9] + ["/no/such/clip.wav"], y), DataNotFoundError,
     "audio file not found: /no/such/clip.wav"),
])
def test_malformed_inputs_name_the_problem(tone_fit, change, error, match):
    _, X, y = tone_fit
    X, y = change(list(X), list(y))
    with pytest.raises(error, match=match):
        SoundClassifier("quick", sr=SR, **TINY).fit(X, y)


@pytest.mark.parametrize("options, match", [
    ({"arch": "Cov1 + Nonsense"}, "unknown layer 'Nonsense' at position 2"),
    ({"aggregate": "median"}, "aggregate must be one of 'mean', 'vote', got 'median'"),
    ({"validation_fraction": -0.1}, r"validation_fraction must be a number in \[0, 1\)"),
    ({"sr": 0}, "sr must be an integer >= 1, got 0"),
    ({"preset": "fast"}, "preset must be one of"),
    ({"seed": 1.5}, "seed must be an integer >= 0, got 1.5"),
])
def test_invalid_options_raise_config_error_at_fit(tone_fit, options, match):
    _, X, y = tone_fit
    est = SoundClassifier(**({"preset": "quick", "sr": SR} | TINY | options))  # stored unchecked
    with pytest.raises(ConfigError, match=match):
        est.fit(X, y)


def test_single_clip_class_with_validation_names_the_label(tone_fit):
    _, X, y = tone_fit
    with pytest.raises(DataError, match="class 'lone' has 1 clip"):
        SoundClassifier("quick", sr=SR, **TINY, validation_fraction=0.2).fit(
            X, ["lone"] + [str(v) for v in y[1:]])


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def clips(data_root, tmp_path_factory):
    """32 real clips of fold 1 (8 per class, 4 classes) as file paths and string labels."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SPECTRANET_CACHE", str(tmp_path_factory.mktemp("cache_estimator")))
    table = load_clips("urbansound8k", root=data_root, folds=[1])
    X, y = [], []
    for record in table.records:
        name = table.class_names[record.label]
        if name in CLASSES and y.count(name) < 8:
            X.append(str(record.path))
            y.append(name)
    yield X, y
    mp.undo()


@pytest.fixture(scope="module")
def clips_fit(clips):
    return SoundClassifier("quick", **TINY).fit(*clips)


def test_string_labels_round_trip(clips, clips_fit):
    X, y = clips
    assert len(X) == 32 and sorted(set(y)) == list(CLASSES)
    assert clips_fit.classes_.tolist() == list(CLASSES)
    pred = clips_fit.predict(X)
    assert pred.shape == (32,) and set(pred.tolist()) <= set(CLASSES)
    assert all(isinstance(p, str) for p in pred.tolist())


def test_predict_proba_rows_sum_to_one(clips, clips_fit):
    X, _ = clips
    proba = clips_fit.predict_proba(X)
    assert proba.shape == (32, 4) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(clips_fit.predict(X), clips_fit.classes_[proba.argmax(1)])


def test_waveforms_equal_files_and_are_resampled(clips, clips_fit):
    files = clips[0][:6]
    waves = [load_audio(f, sr=None) for f in files]  # the files are 22,050 Hz
    from_files = clips_fit.predict_proba(files)
    np.testing.assert_allclose(clips_fit.predict_proba(waves), from_files, atol=1e-6)
    up = [resample_audio(w, orig_sr=22050, sr=44100) for w in waves]
    told = copy.deepcopy(clips_fit).set_params(sr=44100)  # the same fitted model
    resampled_error = np.abs(told.predict_proba(up) - from_files).max()
    unresampled_error = np.abs(clips_fit.predict_proba(up) - from_files).max()  # read as 22,050
    assert resampled_error < 1e-4
    assert unresampled_error > 10 * resampled_error


def test_same_seed_same_probabilities(clips, clips_fit):
    X, y = clips
    again = SoundClassifier("quick", **TINY).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clips_fit.predict_proba(X))
    other = SoundClassifier("quick", **TINY, seed=1).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), clips_fit.predict_proba(X))


def test_cross_val_score_equals_a_manual_loop(clips):
    X, y = clips
    est = SoundClassifier("quick", **TINY)
    scores = cross_val_score(est, X, y, cv=2)
    manual = []
    for train, test in StratifiedKFold(2).split(X, y):
        fold = clone(est).fit([X[i] for i in train], [y[i] for i in train])
        manual.append(fold.score([X[i] for i in test], [y[i] for i in test]))
    assert scores.shape == (2,)
    np.testing.assert_array_equal(scores, manual)
