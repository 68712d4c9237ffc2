"""Unsupervised feature learning + random forest on the sound folds (Chen et al.'s Table 4, [38]).

The features are :class:`spectranet.audio.feature_learning.SphericalKMeansFeatures` (our
implementation of Salamon & Bello's (2015) idea as issue 23 describes it, not a verified copy:
see that module for every choice) of 40-band log-mel spectrograms; the classifier a random
forest of 500 trees, sqrt(features) per split. Evaluation follows the MFCC baseline's fold
protocol (:mod:`spectranet.audio.baseline`): test fold k, validation fold = the previous fold
present (scored, not used: nothing is tuned), training = the rest; the whitening, the
dictionary and the forest see the training clips only. ``spectranet audio train --baseline ufl``
and the ``ufl`` row of ``spectranet experiment chen2019 table4`` run it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from spectranet.audio.datasets import ClipTable
from spectranet.audio.decoding import load_audio
from spectranet.audio.feature_learning import SphericalKMeansFeatures
from spectranet.audio.features import log_mel
from spectranet.audio.protocol import fold_split
from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.errors import DataError

__all__ = ["clip_log_mels", "cross_validate", "ufl_baseline"]


def clip_log_mels(clips: ClipTable, *, sr: int = 22050, n_mels: int = 40, n_fft: int = 1024,
                  hop_length: int = 512) -> list[np.ndarray]:
    """The log-mel spectrogram (dB) of every clip, in ``clips`` order.

    Parameters
    ----------
    clips : ClipTable
    sr : int, Hz, default 22050
        Clips are resampled to this rate.
    n_mels : int, default 40
    n_fft, hop_length : int, samples, default 1024 and 512

    Returns
    -------
    list of ndarray, each shape (n_mels, 1 + samples // hop_length), float32
    """
    return [log_mel(load_audio(r.path, sr=sr), sr=sr, n_fft=n_fft, hop_length=hop_length,
                    n_mels=n_mels) for r in clips.records]


def _forest(seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=500, max_features="sqrt", random_state=seed,
                                  n_jobs=1)


def ufl_baseline(clips: ClipTable, spectrograms: Sequence[np.ndarray], *, test_fold: int,
                 seed: int = 0, validation: bool = True,
                 learner: SphericalKMeansFeatures | None = None) -> dict[str, Any]:
    """Train and test the feature learner + random forest on one cross-validation round.

    Parameters
    ----------
    clips : ClipTable
        With at least 3 folds present.
    spectrograms : sequence of ndarray
        :func:`clip_log_mels` of ``clips`` (one per clip, same order).
    test_fold : int
        Validation is the previous fold present, training the rest (see
        :func:`~spectranet.audio.protocol.fold_split`).
    seed : int >= 0, default 0
        Seeds the learner (unless ``learner`` is given) and the forest.
    validation : bool, default True
        False: the previous fold trains too; ``val_accuracy`` is then None.
    learner : SphericalKMeansFeatures, optional
        Unfitted learner with other settings (default: ``SphericalKMeansFeatures(random_state=
        seed)``); fitted here on the training clips.

    Returns
    -------
    dict
        The keys of :func:`spectranet.audio.baseline.mfcc_baseline` (``fold``,
        ``clip_accuracy``, ``val_accuracy``, ``split``, ``clip_true``, ``clip_pred``, ...),
        ``chosen`` (the learner's settings) and ``n_patches_fit``.
    """
    split = fold_split(clips.folds, test_fold, validation=validation)  # validates the folds
    if len(spectrograms) != len(clips):
        raise DataError(f"spectrograms must hold one per clip ({len(clips)}), "
                        f"got {len(spectrograms)}")
    tic = time.perf_counter()
    tr, va, te = split["train"], split["val"], split["test"]
    learner = SphericalKMeansFeatures(random_state=seed) if learner is None else learner
    learner.fit([spectrograms[i] for i in tr])
    y = clips.labels
    forest = _forest(seed).fit(learner.transform([spectrograms[i] for i in tr]), y[tr])

    def predict(rows: np.ndarray) -> np.ndarray:
        return forest.predict(learner.transform([spectrograms[i] for i in rows])).astype(np.int64)

    val_acc = float(np.mean(predict(va) == y[va])) if va.size else None
    pred = predict(te)
    seconds = time.perf_counter() - tic
    m = classification_metrics(y[te], pred, n_classes=len(clips.class_names))
    params = learner.get_params()
    return {
        "fold": int(test_fold), "classifier": "ufl", "seed": seed,
        "clip_accuracy": m["overall_accuracy"], "val_accuracy": val_acc,
        "chosen": params | {"n_estimators": 500}, "n_patches_fit": learner.n_patches_fit_,
        "train_clips": int(tr.size), "val_clips": int(va.size), "test_clips": int(te.size),
        "split": {k: v.tolist() for k, v in split.items()},
        "clip_ids": te.astype(np.int64), "clip_true": y[te], "clip_pred": pred,
        "per_class_accuracy": m["per_class_accuracy"], "macro_f1": m["macro_f1"],
        "confusion_matrix": m["confusion_matrix"], "train_seconds": seconds,
    }


def cross_validate(clips: ClipTable, test_folds: Sequence[int], *, seed: int = 0,
                   validation: bool = True, sr: int = 22050, n_mels: int = 40,
                   n_fft: int = 1024, hop_length: int = 512
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run :func:`ufl_baseline` on each test fold, spectrograms computed once.

    Returns
    -------
    metrics : dict
        The keys of :func:`spectranet.audio.baseline.cross_validate`: ``clip_accuracy`` (mean
        over folds), ``folds``, ``mean``, ``std``, pooled ``per_class_accuracy``, ``macro_f1``
        and ``confusion_matrix``, ``feature_seconds`` (spectrograms), ``train_seconds``
        (learning, encoding and the forest, all folds), ``n_features``, ``clips``,
        ``classifier`` ("ufl").
    rounds : list of dict
        The :func:`ufl_baseline` result of each fold.
    """
    tic = time.perf_counter()
    specs = clip_log_mels(clips, sr=sr, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length)
    feature_seconds = time.perf_counter() - tic
    rounds = [ufl_baseline(clips, specs, test_fold=fold, seed=seed, validation=validation)
              for fold in test_folds]
    folds = [{"fold": r["fold"], "clip_accuracy": r["clip_accuracy"],
              "val_accuracy": r["val_accuracy"], "chosen": r["chosen"],
              "test_clips": r["test_clips"]} for r in rounds]
    mean, std = mean_std([{"clip_accuracy": f["clip_accuracy"]} for f in folds])
    pooled = classification_metrics(np.concatenate([r["clip_true"] for r in rounds]),
                                    np.concatenate([r["clip_pred"] for r in rounds]),
                                    n_classes=len(clips.class_names))
    return {
        "classifier": "ufl",
        "clip_accuracy": mean["clip_accuracy"], "folds": folds, "mean": mean, "std": std,
        "per_class_accuracy": pooled["per_class_accuracy"], "macro_f1": pooled["macro_f1"],
        "confusion_matrix": pooled["confusion_matrix"], "feature_seconds": feature_seconds,
        "train_seconds": float(sum(r["train_seconds"] for r in rounds)),
        "n_features": 2 * SphericalKMeansFeatures().n_centroids, "clips": len(clips),
    }, rounds
