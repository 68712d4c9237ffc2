"""The inputs of :class:`~spectranet.hsi.estimator.HSIClassifier`: checks, classes, hold-out.

A cube and a label map as scikit-learn's ``fit`` receives them: checked (one line naming the
argument and what was expected), the label map's ids encoded as class indices, and the
held-out pixels that keep the best epoch drawn.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.splits import random_split

__all__ = ["check_int", "check_fraction", "check_cube", "check_label_map", "encode", "holdout"]


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, refused unless an integer >= ``minimum`` (:class:`ConfigError`)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(value: Any, preset_value: float) -> float:
    """``validation_fraction`` in [0, 1), or the preset's ``preset_value`` when None."""
    if value is None:
        return float(preset_value)
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ConfigError(f"validation_fraction must be a number in [0, 1), got {value!r}")
    return float(value)


def check_cube(cube: Any) -> np.ndarray:
    """A non-empty (rows, cols, bands) array of real numbers, else :class:`DataError`."""
    arr = np.asarray(cube)
    if arr.ndim != 3 or 0 in arr.shape:
        raise DataError(f"cube must be a non-empty 3-D (rows, cols, bands) array, "
                        f"got shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise DataError(f"cube must hold real numbers, got dtype {arr.dtype}")
    return arr


def check_label_map(label_map: Any, shape: tuple[int, ...], *, pool: bool = False) -> np.ndarray:
    """An integer (rows, cols) label map of the cube's ``shape``: ids >= 0, 0 = unlabelled.

    With ``pool`` (self-training) the id -1 is allowed too: unlabelled pixels that
    self-training may pseudo-label (scikit-learn's ``SelfTrainingClassifier`` marks its
    unlabelled samples -1); 0 stays background, never pseudo-labelled.
    """
    labels = np.asarray(label_map)
    if labels.ndim != 2:
        raise DataError(f"label_map must be a 2-D (rows, cols) array, got shape {labels.shape}")
    if labels.shape != tuple(shape):
        raise DataError(f"label_map has shape {labels.shape} but the cube has (rows, cols) = "
                        f"{tuple(shape)}: spatial sizes differ")
    if labels.dtype.kind == "f" and np.isfinite(labels).all() and (labels == labels.round()).all():
        labels = labels.astype(np.int64)  # integer ids stored as floats (e.g. from MATLAB)
    if labels.dtype.kind not in "iu":
        raise DataError(f"label_map must hold integer class ids, got dtype {labels.dtype}")
    if labels.min() < -int(pool):
        raise DataError("label_map must hold ids >= 0 (0 = unlabelled"
                        + ("; -1 = the self-training pool" if pool else "")
                        + f"), got {labels.min()}")
    return labels


def encode(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The class ids present (0 and -1 excluded) and the map of class indices (-1 = none)."""
    classes = np.unique(labels[labels > 0])
    if classes.size < 2:
        raise DataError(f"label_map must hold at least 2 classes (ids != 0), "
                        f"got {classes.tolist()}")
    codes = np.searchsorted(classes, labels).astype(np.int64)
    codes[labels <= 0] = -1
    return classes, codes


def holdout(codes: np.ndarray, classes: np.ndarray, fraction: float,
             seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and validation pixels: the paper split's test share is the hold-out."""
    if fraction == 0:
        return np.flatnonzero(codes.ravel() >= 0), None
    counts = np.bincount(codes[codes >= 0], minlength=len(classes))
    if counts.min() < 3:
        k = int(counts.argmin())
        raise DataError(f"class {classes[k]} has {counts[k]} labelled pixels; "
                        f"validation_fraction > 0 needs >= 3 per class (or pass 0)")
    split = random_split(codes, test_size=fraction, val_fraction=0.5, seed=seed)
    return np.sort(np.concatenate([split.train, split.val])), split.test
