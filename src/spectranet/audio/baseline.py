"""Classic sound baseline: per-clip summary statistics of MFCCs with an SVM or a random forest.

The kind of baseline Chen et al. (2019) cite for UrbanSound8K (Salamon, Jacoby & Bello 2014:
MFCC summary statistics with an SVM / random forest, about 68 %). Each clip becomes one vector:
mean, standard deviation, minimum, maximum, median, skewness and kurtosis of each of
``n_mfcc`` MFCCs, plus mean and standard deviation of their first and second deltas
(``11 * n_mfcc`` features, 275 by default). Classifiers come from scikit-learn.

Evaluation uses the same fold protocol as the CNNs (:func:`spectranet.audio.protocol.fold_split`):
test fold k, validation fold = the previous fold present, training = the rest. The validation
fold only chooses the SVM's ``C`` (the forest has nothing to tune); the final classifier is
fitted on the training folds alone, like the CNNs. Feature scaling is fitted on training clips.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from spectranet.audio import ufl_baseline
from spectranet.audio.datasets import ClipTable, load_clips
from spectranet.audio.decoding import load_audio
from spectranet.audio.protocol import fold_split
from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.engine.run import Run
from spectranet.errors import ConfigError, DataError

__all__ = ["BaselineConfig", "CLASSIFIERS", "clip_mfcc_features", "cross_validate",
           "data_fingerprint", "make_classifier", "mfcc_features", "mfcc_baseline", "train"]

#: Classifier names and what each is.
CLASSIFIERS = {
    "svm": "RBF support vector machine (C chosen on the validation fold among 1, 10, 100)",
    "rf": "random forest, 500 trees, sqrt(features) per split",
    "ufl": "unsupervised feature learning (spherical k-means codes of whitened 40-band log-mel "
           "patches, mean and std pooled) + random forest, 500 trees; in place of the MFCCs "
           "(see spectranet.audio.ufl_baseline)",
}
_SVM_C = (1.0, 10.0, 100.0)
_MIN_FRAMES = 9  # librosa delta width 9 in 'interp' mode needs >= 9 frames


@dataclass(frozen=True)
class BaselineConfig:
    """Settings of an MFCC baseline run.

    Parameters
    ----------
    dataset : str, default "urbansound8k"
        Registered dataset name or a user folder (see
        :func:`~spectranet.audio.datasets.load_clips`).
    folds : list of int, optional
        Test folds (default: every fold present).
    classifier : {"svm", "rf", "ufl"}, default "svm"
        "ufl" learns its own features from log-mel spectrograms (``sr``, ``n_mels``,
        ``n_fft``, ``hop_length``; ``n_mfcc`` unused) instead of MFCC statistics.
    seed : int >= 0, default 0
    sr : int, Hz, default 22050
    n_mfcc : int >= 1, default 25
    n_mels : int >= n_mfcc, default 40
    n_fft, hop_length : int, samples, default 1024 and 512
    validation : bool, default True
        False: no validation fold; every fold but the test fold trains and the SVM keeps
        C = 10 (the CNNs' ``validation="none"`` protocol).
    """

    dataset: str = "urbansound8k"
    folds: list[int] | None = None
    classifier: str = "svm"
    seed: int = 0
    sr: int = 22050
    n_mfcc: int = 25
    n_mels: int = 40
    n_fft: int = 1024
    hop_length: int = 512
    validation: bool = True
    preset: str | None = field(default=None)

    def __post_init__(self) -> None:
        _check_classifier(self.classifier)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name in ("sr", "n_mfcc", "n_mels", "n_fft", "hop_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if self.n_mels < self.n_mfcc:
            raise ConfigError(f"n_mels must be >= n_mfcc ({self.n_mfcc}), got {self.n_mels}")


def _check_classifier(classifier: str) -> None:
    if classifier not in CLASSIFIERS:
        raise ConfigError(f"classifier must be one of {sorted(CLASSIFIERS)}, got {classifier!r}")


def clip_mfcc_features(y: np.ndarray, *, sr: int = 22050, n_mfcc: int = 25, n_mels: int = 40,
                       n_fft: int = 1024, hop_length: int = 512) -> np.ndarray:
    """Summary statistics of one clip's MFCCs: a row of :func:`mfcc_features`.

    Parameters
    ----------
    y : float ndarray, shape (n_samples,)
        Mono waveform at ``sr`` Hz (e.g. :func:`~spectranet.audio.decoding.load_audio`'s).
    sr : int, Hz, default 22050
    n_mfcc, n_mels, n_fft, hop_length : int, default 25, 40, 1024 and 512 samples
        As :func:`mfcc_features`.

    Returns
    -------
    float ndarray, shape (11 * n_mfcc,)
        The statistics :func:`mfcc_features` lists, in its order.
    """
    import librosa
    from scipy import stats

    need = hop_length * (_MIN_FRAMES - 1) + 1
    if y.size < need:  # very short clip: repeat it, as the CNN pipeline pads short clips
        y = np.tile(y, int(np.ceil(need / max(y.size, 1))))[:need]
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_mels=n_mels, n_fft=n_fft,
                             hop_length=hop_length, htk=False, norm="ortho")
    d1 = librosa.feature.delta(m, width=9, order=1, mode="interp")
    d2 = librosa.feature.delta(m, width=9, order=2, mode="interp")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant rows: handled below
        parts = [m.mean(1), m.std(1), m.min(1), m.max(1), np.median(m, 1),
                 stats.skew(m, axis=1), stats.kurtosis(m, axis=1),
                 d1.mean(1), d1.std(1), d2.mean(1), d2.std(1)]
    # a constant coefficient (silent clip) has undefined skewness and kurtosis: use 0
    return np.nan_to_num(np.concatenate(parts), nan=0.0, posinf=0.0, neginf=0.0)


def mfcc_features(clips: ClipTable, *, sr: int = 22050, n_mfcc: int = 25, n_mels: int = 40,
                  n_fft: int = 1024, hop_length: int = 512) -> np.ndarray:
    """Summary statistics of MFCCs, one row per clip.

    Parameters
    ----------
    clips : ClipTable
    sr : int, Hz, default 22050
        Clips are resampled to this rate.
    n_mfcc : int, default 25
    n_mels : int, default 40
        Mel bands under the MFCCs (Slaney mel scale and norm, librosa's defaults).
    n_fft, hop_length : int, samples, default 1024 and 512

    Returns
    -------
    ndarray, shape (n_clips, 11 * n_mfcc), float64
        Per coefficient: mean, std, min, max, median, skewness, kurtosis; mean and std of the
        first and of the second delta (width 9, mode "interp"). Clips shorter than 9 frames
        are repeated up to 9 frames.
    """
    rows = [clip_mfcc_features(load_audio(r.path, sr=sr), sr=sr, n_mfcc=n_mfcc, n_mels=n_mels,
                               n_fft=n_fft, hop_length=hop_length) for r in clips.records]
    return np.stack(rows) if rows else np.zeros((0, 11 * n_mfcc))


def make_classifier(classifier: str, seed: int, c: float = 10.0) -> Any:
    """The unfitted baseline classifier: standardisation, then the SVM or the random forest.

    Parameters
    ----------
    classifier : {"svm", "rf"}
        ``"svm"``: RBF SVC with regularisation ``c`` (no probabilities); ``"rf"``: 500 trees,
        ``sqrt(features)`` per split, one process.
    seed : int >= 0
        ``random_state`` of the classifier.
    c : float > 0, default 10
        The SVM's C (unused by the forest).

    Returns
    -------
    sklearn.pipeline.Pipeline
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if classifier == "svm":
        return make_pipeline(StandardScaler(), SVC(C=c, kernel="rbf", gamma="scale",
                                                   random_state=seed))
    return make_pipeline(StandardScaler(), RandomForestClassifier(
        n_estimators=500, max_features="sqrt", random_state=seed, n_jobs=1))


def mfcc_baseline(clips: ClipTable, *, test_fold: int,
                  classifier: Literal["svm", "rf"] = "svm", seed: int = 0,
                  features: np.ndarray | None = None, validation: bool = True
                  ) -> dict[str, Any]:
    """Train and test the MFCC baseline on one cross-validation round.

    Parameters
    ----------
    clips : ClipTable
        With folds (``clips.folds_present`` holds at least 3 folds).
    test_fold : int
        Must be present; validation is the previous fold present, training the rest.
    classifier : {"svm", "rf"}, default "svm"
    seed : int, default 0
        Seeds the classifier.
    features : ndarray, shape (n_clips, n_features), optional
        Precomputed :func:`mfcc_features` (default: computed here).
    validation : bool, default True
        False: the previous fold trains too (see :func:`~spectranet.audio.protocol.fold_split`)
        and the SVM keeps C = 10; ``val_accuracy`` is then None.

    Returns
    -------
    dict
        ``fold``, ``classifier``, ``clip_accuracy`` (test), ``val_accuracy``, ``chosen``
        (hyper-parameters), ``train_clips``/``val_clips``/``test_clips`` (counts),
        ``split`` (clip indices per set), ``clip_ids``, ``clip_true``, ``clip_pred`` (test
        clips, int arrays), ``per_class_accuracy``, ``confusion_matrix``, ``train_seconds``.

    Raises
    ------
    ConfigError
        Unknown classifier, fewer than 3 folds, or ``test_fold`` absent.
    DataError
        ``features`` has another number of rows than ``clips``.
    """
    _check_classifier(classifier)
    if classifier == "ufl":
        raise ConfigError("classifier 'ufl' learns its own features, not MFCCs: use "
                          "spectranet.audio.ufl_baseline.ufl_baseline")
    split = fold_split(clips.folds, test_fold, validation=validation)  # validates the folds
    x = mfcc_features(clips) if features is None else np.asarray(features, dtype=np.float64)
    if x.shape[0] != len(clips):
        raise DataError(f"features must have one row per clip ({len(clips)}), got {x.shape[0]}")
    y = clips.labels
    tic = time.perf_counter()
    tr, va, te = split["train"], split["val"], split["test"]
    candidates = _SVM_C if classifier == "svm" and va.size else (None,)
    best: tuple[float, Any, dict[str, Any]] | None = None
    for c in candidates:
        model = make_classifier(classifier, seed, **({"c": c} if c is not None else {}))
        model.fit(x[tr], y[tr])
        val_acc = float(np.mean(model.predict(x[va]) == y[va])) if va.size else None
        if best is None or val_acc > best[0]:
            best = (val_acc, model, {"C": c} if c is not None else {"n_estimators": 500})
    assert best is not None
    val_acc, model, chosen = best
    pred = model.predict(x[te]).astype(np.int64)
    seconds = time.perf_counter() - tic
    m = classification_metrics(y[te], pred, n_classes=len(clips.class_names))
    return {
        "fold": int(test_fold), "classifier": classifier, "seed": seed,
        "clip_accuracy": m["overall_accuracy"], "val_accuracy": val_acc, "chosen": chosen,
        "train_clips": int(tr.size), "val_clips": int(va.size), "test_clips": int(te.size),
        "split": {k: v.tolist() for k, v in split.items()},
        "clip_ids": te.astype(np.int64), "clip_true": y[te], "clip_pred": pred,
        "per_class_accuracy": m["per_class_accuracy"], "macro_f1": m["macro_f1"],
        "confusion_matrix": m["confusion_matrix"], "train_seconds": seconds,
    }


def cross_validate(clips: ClipTable, test_folds: list[int], config: BaselineConfig
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run :func:`mfcc_baseline` on each test fold with features computed once.

    Returns
    -------
    metrics : dict
        ``clip_accuracy`` (mean over folds), ``folds`` (``fold``, ``clip_accuracy``,
        ``val_accuracy``, ``chosen``, ``test_clips``), ``mean``, ``std``, pooled
        ``per_class_accuracy``, ``macro_f1`` and ``confusion_matrix``, ``feature_seconds``,
        ``train_seconds``, ``n_features``, ``clips``, ``classifier``.
    rounds : list of dict
        The :func:`mfcc_baseline` result of each fold (with ``classifier="ufl"``:
        :func:`spectranet.audio.ufl_baseline.cross_validate`'s).
    """
    if config.classifier == "ufl":
        return ufl_baseline.cross_validate(
            clips, test_folds, seed=config.seed, validation=config.validation, sr=config.sr,
            n_mels=config.n_mels, n_fft=config.n_fft, hop_length=config.hop_length)
    tic = time.perf_counter()
    x = mfcc_features(clips, sr=config.sr, n_mfcc=config.n_mfcc, n_mels=config.n_mels,
                      n_fft=config.n_fft, hop_length=config.hop_length)
    feature_seconds = time.perf_counter() - tic
    rounds = [mfcc_baseline(clips, test_fold=fold, classifier=config.classifier,  # type: ignore[arg-type]
                            seed=config.seed, features=x, validation=config.validation)
              for fold in test_folds]
    folds = [{"fold": r["fold"], "clip_accuracy": r["clip_accuracy"],
              "val_accuracy": r["val_accuracy"], "chosen": r["chosen"],
              "test_clips": r["test_clips"]} for r in rounds]
    mean, std = mean_std([{"clip_accuracy": f["clip_accuracy"]} for f in folds])
    pooled = classification_metrics(np.concatenate([r["clip_true"] for r in rounds]),
                                    np.concatenate([r["clip_pred"] for r in rounds]),
                                    n_classes=len(clips.class_names))
    metrics = {
        "classifier": config.classifier,
        "clip_accuracy": mean["clip_accuracy"], "folds": folds, "mean": mean, "std": std,
        "per_class_accuracy": pooled["per_class_accuracy"], "macro_f1": pooled["macro_f1"],
        "confusion_matrix": pooled["confusion_matrix"], "feature_seconds": feature_seconds,
        "train_seconds": float(sum(r["train_seconds"] for r in rounds)),
        "n_features": int(x.shape[1]), "clips": len(clips),
    }
    return metrics, rounds


def data_fingerprint(config: BaselineConfig, root: str | Path | None = None) -> str:
    """The fingerprint of the clips a run of ``config`` reads (names, sizes, classes, folds)."""
    return load_clips(config.dataset, root=root).fingerprint()


def train(config: BaselineConfig, out: str | Path, *,
          root: str | Path | None = None) -> dict[str, Any]:
    """Cross-validate the MFCC baseline over the test folds; write a run folder.

    The folder holds ``config.json``, ``fold_<k>/metrics.json`` (with the split) and
    ``metrics.json`` (written last: it marks a finished run), with the sound pipeline's keys:
    ``clip_accuracy`` (mean over folds), ``folds`` (``fold``, ``clip_accuracy``, ...), ``mean``,
    ``std``, pooled ``per_class_accuracy`` and ``confusion_matrix``, ``train_seconds``.

    Raises
    ------
    ConfigError
        Test folds not present, or the folder holds a run with another configuration.
    """
    clips = load_clips(config.dataset, root=root)
    test_folds = clips.cv_folds(config.folds, name=config.dataset)
    run = Run.open(out, config, clips.fingerprint(), domain="mfcc", distributed=False,
                   describe={"classifier": CLASSIFIERS[config.classifier],
                             "classes": list(clips.class_names)})
    metrics, rounds = cross_validate(clips, test_folds, config)
    for r in rounds:
        run.folder.write_json(f"fold_{r['fold']}/metrics.json", r)  # type: ignore[union-attr]
    return run.finish(metrics)
