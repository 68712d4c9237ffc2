"""Train / validation / test splits of a labelled scene's pixels.

Splits are functions: a label map, fractions and a seed in, flat pixel indices (``r * W + c``)
out, saved verbatim by the caller. Three protocols:

- :func:`random_split`: the paper's random split (Ahmad 2020: 30 % test, the rest halved into
  training and validation), stratified by class (our choice: the paper does not say);
- :func:`per_class_split`: a fixed count or fraction of training (and validation) pixels per
  class, the rest test;
- :func:`spectranet.hsi.disjoint.disjoint_split`: spatially disjoint regions, so that no
  training or validation patch contains a test pixel and no training patch contains a
  validation pixel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np

from spectranet.errors import ConfigError, DataError

__all__ = ["Split", "random_split", "per_class_split", "leakage", "SETS"]

SETS = ("train", "val", "test")
_EMPTY = np.zeros(0, dtype=np.int64)
Seed = int | np.random.Generator


def _name(k: int, class_names: Sequence[str] | None) -> str:
    """How messages name class index ``k``: the caller's name for it, else the index."""
    return class_names[k] if class_names is not None else f"index {k}"


def _index_array(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        return _EMPTY.copy()
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"split {name} must be a 1-D integer array, got {arr.dtype} {arr.shape}")
    if arr.min() < 0:
        raise DataError(f"split {name} must hold pixel indices >= 0, got {int(arr.min())}")
    return arr.astype(np.int64, copy=False)


@dataclass(frozen=True, eq=False)
class Split:
    """Flat pixel indices of the training, validation and test sets.

    Attributes
    ----------
    train, val, test : ndarray of int64, shape (n_set,)
        Sorted flat pixel indices ``r * W + c``; no pixel is in two sets.
    discarded : ndarray of int64, shape (n_discarded,)
        Labelled pixels left out on purpose (the buffer of :func:`disjoint_split`).
    notes : tuple of str
        Human-readable remarks, e.g. classes absent from a set.
    info : dict
        Protocol, parameters and per-class bookkeeping (JSON-serialisable).
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    discarded: np.ndarray = field(default_factory=lambda: _EMPTY.copy())
    notes: tuple[str, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        arrays = {n: _index_array(n, getattr(self, n)) for n in (*SETS, "discarded")}
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)
        everything = np.concatenate(list(arrays.values()))
        if np.unique(everything).size != everything.size:
            raise DataError("split sets must be disjoint, got a pixel in two sets (or twice)")
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))

    def masks(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boolean (H, W) masks of the training, validation and test sets, in that order."""
        h, w = (int(s) for s in shape)
        out = []
        for idx in (self.train, self.val, self.test):
            if idx.size and idx.max() >= h * w:
                raise DataError(f"split holds pixel {idx.max()}, outside a scene of shape {(h, w)}")
            out.append(np.isin(np.arange(h * w), idx).reshape(h, w))
        return out[0], out[1], out[2]

    def class_counts(self, labels: np.ndarray) -> dict[int, dict[str, int]]:
        """Count each class's pixels in each set (and discarded), keyed by class index."""
        flat = _check_labels(labels).ravel()
        names = (*SETS, "discarded")
        return {int(k): {n: int((flat[getattr(self, n)] == k).sum()) for n in names}
                for k in np.unique(flat[flat >= 0])}

    def with_validation_trained(self) -> Split:
        """The same split with the validation pixels moved into the training set.

        The test pixels and the discarded ones are unchanged; ``info["validation"]`` records
        the move ("trained") and ``info["validation_pixels"]`` how many pixels moved.
        """
        return Split(np.union1d(self.train, self.val), _EMPTY.copy(), self.test,
                     discarded=self.discarded, notes=self.notes,
                     info=dict(self.info) | {"validation": "trained",
                                             "validation_pixels": int(self.val.size)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; :meth:`from_dict` restores it exactly."""
        arrays = {n: getattr(self, n).tolist() for n in (*SETS, "discarded")}
        return {**arrays, "notes": list(self.notes), "info": dict(self.info)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Split:
        """Rebuild a split saved by :meth:`to_dict`."""
        missing = [n for n in SETS if n not in data]
        if missing:
            raise DataError(f"split dict must hold keys {SETS}, missing {missing}")
        return cls(**{n: np.asarray(data[n], dtype=np.int64) for n in SETS},
                   discarded=np.asarray(data.get("discarded", []), dtype=np.int64),
                   notes=tuple(data.get("notes", ())), info=dict(data.get("info", {})))


# --------------------------------------------------------------------------- validation
def _check_labels(labels: Any) -> np.ndarray:
    if not isinstance(labels, np.ndarray) or labels.ndim != 2:
        shape = getattr(labels, "shape", type(labels).__name__)
        raise DataError(f"labels must be a 2-D (H, W) integer ndarray, got {shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must have an integer dtype, got {labels.dtype}")
    if labels.size and labels.min() < -1:
        raise DataError(f"labels must be -1 (unlabelled) or a class index >= 0, got {labels.min()}")
    return labels


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 < float(value) < 1.0:
        raise ConfigError(f"{name} must be a fraction in (0, 1), got {value!r}")
    return float(value)


def _check_seed(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0 or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _class_pixels(labels: np.ndarray) -> dict[int, np.ndarray]:
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    sorted_labels = flat[order]
    classes, starts = np.unique(sorted_labels, return_index=True)
    bounds = np.append(starts, flat.size)
    out = {int(k): order[bounds[i]:bounds[i + 1]].astype(np.int64)
           for i, k in enumerate(classes) if k >= 0}
    if not out:
        raise DataError("labels hold no labelled pixel (every value is -1)")
    return out


def _draw(pixels: dict[int, np.ndarray], sizes: dict[int, tuple[int, int]],
          rng: np.random.Generator, info: dict[str, Any]) -> Split:
    """Draw (n_train, n_val) = ``sizes[k]`` pixels of class k at random, the rest test."""
    parts: dict[str, list[np.ndarray]] = {n: [] for n in SETS}
    for k, idx in pixels.items():
        perm, (n_train, n_val) = rng.permutation(idx), sizes[k]
        for name, part in zip(SETS, np.split(perm, [n_train, n_train + n_val]), strict=True):
            parts[name].append(part)
    seed = info["seed"]
    info["seed"] = "generator" if isinstance(seed, np.random.Generator) else int(seed)
    return Split(**{n: np.sort(np.concatenate(parts[n])) for n in SETS}, info=info)


# --------------------------------------------------------------------------- random / per class
def random_split(
    labels: np.ndarray, *, test_size: float = 0.3, val_fraction: float = 0.5, seed: Seed,
    class_names: Sequence[str] | None = None,
) -> Split:
    """Stratified random split of the labelled pixels (the paper protocol).

    Per class of ``n`` pixels: ``ceil(test_size * n)`` test pixels, then ``floor(val_fraction *
    rest)`` validation pixels, the others training; each set keeps at least one pixel.

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
        Class index 0..K-1 per pixel, -1 = unlabelled.
    test_size : float in (0, 1), default 0.3
        Share of each class's pixels that go to test.
    val_fraction : float in (0, 1), default 0.5
        Share of the remaining pixels that go to validation (0.5 halves them, as in the paper).
    seed : int >= 0 or numpy.random.Generator
    class_names : sequence of str, optional
        How messages and notes name each class index (e.g. "9 Oats"); default the index.

    Returns
    -------
    Split

    Raises
    ------
    DataError
        A class holds fewer than 3 pixels, or ``labels`` is malformed.
    ConfigError
        A fraction is outside (0, 1) or the seed is invalid.

    Examples
    --------
    >>> labels = np.repeat([[0, 1]], 20, axis=0)  # two classes of 20 pixels each
    >>> split = random_split(labels, seed=0)
    >>> [len(split.train), len(split.val), len(split.test)]
    [14, 14, 12]
    >>> train_mask, val_mask, test_mask = split.masks(labels.shape)
    """
    labels = _check_labels(labels)
    test_size = _check_fraction("test_size", test_size)
    val_fraction = _check_fraction("val_fraction", val_fraction)
    rng = _check_seed(seed)
    pixels = _class_pixels(labels)
    sizes = {}
    for k, idx in pixels.items():
        n = idx.size
        if n < 3:
            raise DataError(f"class {_name(k, class_names)} has {n} pixels, a stratified split "
                            "needs >= 3")
        n_test = min(max(int(np.ceil(test_size * n)), 1), n - 2)
        n_val = min(max(int(np.floor(val_fraction * (n - n_test))), 1), n - n_test - 1)
        sizes[k] = (n - n_test - n_val, n_val)
    info = {"protocol": "random", "test_size": test_size, "val_fraction": val_fraction,
            "seed": seed}
    return _draw(pixels, sizes, rng, info)


def _count_or_fraction(name: str, value: Any, *, allow_zero: bool) -> tuple[str, float]:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be an int count or a float fraction, got {value!r}")
    if isinstance(value, Integral):
        if value < int(not allow_zero):
            raise ConfigError(f"{name} as a count must be an integer >= {int(not allow_zero)}, "
                              f"got {value!r}")
        return "count", float(value)
    if isinstance(value, Real) and 0.0 < float(value) < 1.0:
        return "fraction", float(value)
    raise ConfigError(
        f"{name} must be an int >= 1 (a count) or a float in (0, 1) (a fraction), got {value!r}"
        + (" (pass an int for a count)" if isinstance(value, Real) and float(value) >= 1 else "")
    )


def per_class_split(
    labels: np.ndarray,
    *,
    train_per_class: int | float,
    val_per_class: int | float = 0,
    seed: Seed,
    class_names: Sequence[str] | None = None,
) -> Split:
    """Take a fixed count or fraction of training (and validation) pixels per class, rest test.

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
        Class index 0..K-1 per pixel, -1 = unlabelled.
    train_per_class : int >= 1 (a count) or float in (0, 1) (a fraction)
        Training pixels per class. Ints are counts and floats are fractions: ``1.0`` or ``10.0``
        are rejected as ambiguous.
    val_per_class : int >= 0 (a count) or float in (0, 1) (a fraction), default 0
        Validation pixels per class, same reading.
    seed : int >= 0 or numpy.random.Generator
    class_names : sequence of str, optional
        How messages and notes name each class index (e.g. "9 Oats"); default the index.

    Returns
    -------
    Split
        A fraction is rounded to the nearest count with at least one pixel; every class keeps at
        least one test pixel.

    Raises
    ------
    ConfigError
        Ambiguous or out-of-range counts/fractions, or fractions summing to >= 1.
    DataError
        A class too small for the requested counts (the message names the class and its size).
    """
    labels = _check_labels(labels)
    kind_t, n_t = _count_or_fraction("train_per_class", train_per_class, allow_zero=False)
    kind_v, n_v = _count_or_fraction("val_per_class", val_per_class, allow_zero=True)
    if kind_t == kind_v == "fraction" and n_t + n_v >= 1.0:
        raise ConfigError(
            f"train_per_class + val_per_class must be < 1 as fractions, got {n_t} + {n_v}"
        )
    rng = _check_seed(seed)
    pixels = _class_pixels(labels)

    def _n(kind: str, value: float, size: int) -> int:
        return int(value) if kind == "count" or value == 0 else max(int(round(value * size)), 1)

    sizes = {}
    for k, idx in pixels.items():
        n_train, n_val = _n(kind_t, n_t, idx.size), _n(kind_v, n_v, idx.size)
        if n_train + n_val + 1 > idx.size:
            raise DataError(f"class {_name(k, class_names)} has {idx.size} pixels, needs >= "
                            f"{n_train + n_val + 1} "
                            f"({n_train} train + {n_val} val + 1 test)")
        sizes[k] = (n_train, n_val)
    info = {"protocol": "per_class", "train_per_class": train_per_class,
            "val_per_class": val_per_class, "seed": seed}
    return _draw(pixels, sizes, rng, info)


def leakage(split: Split, shape: tuple[int, int], window: int) -> dict[str, int]:
    """Count the pixels of one set that lie inside another set's patches.

    A test pixel inside a training patch (``window x window`` centred on a training pixel) is
    seen, as a neighbour, while training: its accuracy then measures memory as much as
    generalisation. The relation is symmetric (the training pixel is inside the test pixel's
    patch too).

    Parameters
    ----------
    split : Split
    shape : (rows, cols)
        The scene's spatial size (pixel indices are ``r * cols + c``).
    window : odd int >= 1
        Patch side in pixels.

    Returns
    -------
    dict
        ``test_in_train`` and ``test_in_val``: test pixels inside a training or a validation
        patch; ``val_in_train``: validation pixels inside a training patch; ``test``: test
        pixels.

    Examples
    --------
    >>> s = Split(np.array([0]), np.array([], dtype=np.int64), np.array([2, 4]))
    >>> leakage(s, (1, 5), 5)  # pixel 2 is 2 columns from training pixel 0; pixel 4 is 4
    {'test_in_train': 1, 'test_in_val': 0, 'val_in_train': 0, 'test': 2}
    """
    from scipy import ndimage

    def mask(indices: np.ndarray) -> np.ndarray:
        out = np.zeros(shape[0] * shape[1], dtype=np.uint8)
        out[indices] = 1
        return out.reshape(shape)

    def near(indices: np.ndarray) -> np.ndarray:
        return ndimage.maximum_filter(mask(indices), size=window, mode="constant").ravel() > 0

    train, val = near(split.train), near(split.val)
    return {"test_in_train": int(train[split.test].sum()),
            "test_in_val": int(val[split.test].sum()),
            "val_in_train": int(train[split.val].sum()), "test": int(len(split.test))}

