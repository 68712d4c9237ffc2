"""Classification metrics: OA, AA, Cohen's kappa, per-class scores, confusion matrix.

All values are fractions in [0, 1], returned as plain Python floats and lists so that they can
be written to ``metrics.json`` unchanged. Every score is computed by scikit-learn.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    precision_recall_fscore_support,
)

from spectranet.errors import DataError

__all__ = ["classification_metrics", "mean_std"]


def classification_metrics(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, *, n_classes: int
) -> dict[str, Any]:
    """Score class-index predictions against the truth.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n,)
        True and predicted class indices in ``0 .. n_classes - 1``.
    n_classes : int >= 1
        Number of classes; classes absent from ``y_true`` get a per-class accuracy of NaN
        (written as ``null``) and are left out of the average accuracy.

    Returns
    -------
    dict
        ``overall_accuracy`` (OA), ``average_accuracy`` (AA, the mean of the per-class
        accuracies = recall of the classes present), ``kappa`` (Cohen's), ``per_class_accuracy``,
        ``precision``, ``recall``, ``f1`` (lists of length ``n_classes``), ``macro_precision``,
        ``macro_recall``, ``macro_f1`` (over the classes present in ``y_true``),
        ``confusion_matrix`` (``n_classes x n_classes`` counts, rows = truth), ``n_samples``.

    Raises
    ------
    DataError
        If the arrays differ in length, are empty or hold an index outside the classes.

    Examples
    --------
    >>> m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2)
    >>> m["overall_accuracy"], m["average_accuracy"]
    (0.75, 0.75)
    """
    t, p = _checked(y_true, y_pred, n_classes)
    labels = np.arange(n_classes)
    cm = confusion_matrix(t, p, labels=labels)
    support = cm.sum(axis=1)
    present = support > 0
    precision, recall, f1, _ = precision_recall_fscore_support(
        t, p, labels=labels, zero_division=0
    )
    per_class = np.where(present, recall, np.nan)
    return {
        "overall_accuracy": float(accuracy_score(t, p)),
        "average_accuracy": float(np.mean(recall[present])),
        "kappa": _kappa(t, p, labels),
        "per_class_accuracy": _listify(per_class),
        "precision": _listify(precision),
        "recall": _listify(recall),
        "f1": _listify(f1),
        "macro_precision": float(np.mean(precision[present])),
        "macro_recall": float(np.mean(recall[present])),
        "macro_f1": float(np.mean(f1[present])),
        "confusion_matrix": cm.tolist(),
        "n_samples": int(t.size),
    }


def _checked(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray,
             n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` and ``y_pred`` as flat arrays of equal, non-zero length holding class indices."""
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise DataError(f"y_true and y_pred differ in length: {t.size} and {p.size}")
    if t.size == 0:
        raise DataError("cannot score an empty set of predictions")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.min() < 0 or arr.max() >= n_classes:
            raise DataError(
                f"{name} must hold class indices in [0, {n_classes - 1}], "
                f"got values in [{arr.min()}, {arr.max()}]"
            )
    return t, p


def _kappa(t: np.ndarray, p: np.ndarray, labels: np.ndarray) -> float:
    # sklearn returns NaN (with a warning) when expected agreement is 1; perfect = 1.0 then.
    if np.array_equal(t, p):
        return 1.0
    return float(cohen_kappa_score(t, p, labels=labels))


def _listify(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values]


def mean_std(results: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mean and standard deviation over runs, key by key.

    Numbers and equal-length lists of numbers shared by every dict are summarised; ``None``
    entries (a class absent from a run) are ignored. The standard deviation is the population one
    (``ddof=0``), as reported in the papers; with a single run it is 0.

    Parameters
    ----------
    results : sequence of dict
        One metrics dict per run (seed or fold).

    Returns
    -------
    (mean, std) : tuple of dict
        Same keys as the inputs' shared numeric keys.
    """
    if not results:
        raise DataError("mean_std needs at least one result")
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    for key in results[0]:
        values = [r.get(key) for r in results]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            arr = np.asarray(values, dtype=float)
            mean[key], std[key] = float(arr.mean()), float(arr.std())
        elif all(_is_number_list(v) for v in values) and len({len(v) for v in values}) == 1:
            arr = np.array([[np.nan if x is None else x for x in v] for v in values], dtype=float)
            with warnings.catch_warnings():  # an all-NaN column gives NaN, quietly
                warnings.simplefilter("ignore", RuntimeWarning)
                m, s = np.nanmean(arr, axis=0), np.nanstd(arr, axis=0)
            mean[key], std[key] = _listify(m), _listify(s)
    return mean, std


def _is_number_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for x in value
    )
