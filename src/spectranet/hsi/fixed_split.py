"""A split given as maps, checked against its scene, with its leakage, buffer and validation.

The core of ``--split-file`` (:mod:`spectranet.hsi.split_files` reads the files): the maps must
match the scene's ground truth; test pixels inside training or validation patches at the run's
window are reported, or removed by a buffer; validation is drawn from the training pixels when
no validation map is given.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from spectranet.config import HSIConfig
from spectranet.errors import ConfigError, DataError
from spectranet.hsi.disjoint import _near
from spectranet.hsi.splits import Split, _check_labels, _check_seed

__all__ = ["fixed_split", "buffer_split", "preprocessing_on_training", "CODES"]

#: Set codes of a single-map split (0 = in no set).
CODES: Mapping[int, str] = {1: "train", 2: "test", 3: "val"}
_WORDS = {"train": "training", "test": "test", "val": "validation"}


def _where(mask: np.ndarray) -> str:
    r, c = np.argwhere(mask)[0]
    return f"row {r}, col {c}"


def _masks(source: str, maps: dict[str, np.ndarray], ids: np.ndarray,
           class_ids: Sequence[int]) -> dict[str, np.ndarray]:
    """Boolean (rows, cols) masks of the sets, after checking the maps against the scene."""
    if "codes" in maps:
        codes = maps["codes"]
        bad = sorted(set(np.unique(codes).tolist()) - {0, *CODES})
        if bad:
            raise DataError(f"{source}: a single 2-D map holds set codes 0 (unused), 1 (train), "
                            f"2 (test), 3 (val), got values {bad[:8]}; give label maps as arrays "
                            "named train and test instead")
        masks = {name: codes == code for code, name in CODES.items()}
        unlabelled = (codes > 0) & (ids == 0)
        if unlabelled.any():
            raise DataError(f"{source}: {np.count_nonzero(unlabelled)} pixels in a set are "
                            f"unlabelled in the scene's ground truth (first at "
                            f"{_where(unlabelled)})")
        return masks
    known = {0, *map(int, class_ids)}
    for name, m in maps.items():
        unknown = sorted(set(np.unique(m).tolist()) - known)
        if unknown:
            raise DataError(f"{source}: the {name} map holds class ids {unknown[:8]} that the "
                            f"scene does not have (its ids: {list(map(int, class_ids))})")
        differ = (m > 0) & (m != ids)
        if differ.any():
            r, c = np.argwhere(differ)[0]
            raise DataError(f"{source}: {np.count_nonzero(differ)} pixels of the {name} map "
                            "disagree with the scene's ground truth (first at row "
                            f"{r}, col {c}: {m[r, c]} in the file, {ids[r, c]} in the ground "
                            "truth, 0 = unlabelled)")
    masks = {name: m > 0 for name, m in maps.items()}
    for a, b in (("train", "test"), ("val", "test"), ("train", "val")):
        if a in masks and b in masks and (both := masks[a] & masks[b]).any():
            raise DataError(f"{source}: {np.count_nonzero(both)} pixels are in both the {a} and "
                            f"the {b} map (first at {_where(both)})")
    return masks


def buffer_split(
    train: np.ndarray, val: np.ndarray, test: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop the training and validation pixels whose patch contains a test pixel.

    Parameters
    ----------
    train, val, test : ndarray of bool, shape (rows, cols)
        The sets' masks.
    window : odd int >= 3, pixels
        Patch side: a pixel goes when a test pixel lies within ``window // 2`` pixels of it
        (Chebyshev distance).

    Returns
    -------
    train, val : ndarray of bool, shape (rows, cols)
        What is kept.
    dropped : ndarray of bool, shape (rows, cols)
        The pixels dropped (the buffer).

    Examples
    --------
    >>> test = np.zeros((1, 7), bool); test[0, 0] = True
    >>> train = ~test
    >>> kept, _, dropped = buffer_split(train, np.zeros_like(test), test, 5)
    >>> np.flatnonzero(dropped).tolist()  # columns 1 and 2 are within 2 pixels of column 0
    [1, 2]
    """
    near = _near(test, window)
    return train & ~near, val & ~near, (train | val) & near


def fixed_split(
    maps: Mapping[str, np.ndarray],
    labels: np.ndarray,
    class_ids: Sequence[int],
    *,
    window: int,
    seed: int | np.random.Generator,
    val_fraction: float = 0.5,
    buffer: bool = False,
    class_names: Sequence[str] | None = None,
    files: Sequence[Any] = (),
) -> Split:
    """A scene's split from given maps, checked against the scene, with its leakage.

    Parameters
    ----------
    maps : mapping of str to ndarray of int, shape (rows, cols)
        ``train``, ``test`` and optionally ``val`` label maps (the scene's class ids, 0 = not in
        the set), or ``codes`` alone (:data:`CODES`; 0 = in no set), as
        :func:`spectranet.hsi.split_files.read_split_maps` returns them.
    labels : ndarray of int, shape (rows, cols)
        The scene's class index 0..K-1 per pixel, -1 = unlabelled.
    class_ids : sequence of int, length K
        The scene's ids of classes 0..K-1 (as its ground truth and the maps hold them).
    window : odd int >= 3, pixels
        Patch side of the run: leakage is counted, and the buffer drawn, at this window.
    seed : int >= 0 or numpy.random.Generator
        Draws the validation pixels when there is no validation map.
    val_fraction : float in (0, 1), default 0.5
        Share of each class's training pixels that validate (``floor(val_fraction * n)``, at
        least 1 of 2 or more, leaving one in training), without a validation map.
    buffer : bool, default False
        Drop every training and validation pixel whose ``window x window`` patch contains a test
        pixel (:func:`buffer_split`).
    class_names : sequence of str, length K, optional
        How messages name each class (e.g. "9 (Oats)"); default its id.
    files : sequence of path-like, optional
        Where the maps come from: named in messages and recorded in ``info``.

    Returns
    -------
    Split
        ``discarded`` holds the buffer; ``info`` records the files, format, validation source,
        buffer counts per class (str keys), ``test_in_patches_before_buffer`` and
        ``leakage_free`` (no test pixel inside a training or validation patch); ``notes`` name
        the classes missing from a set and the buffer per class.

    Raises
    ------
    ConfigError
        ``window`` is not an odd integer >= 3, or ``val_fraction`` is not in (0, 1).
    DataError
        A map of the wrong shape; class ids the scene does not have; labels that disagree with
        the scene's ground truth; set codes other than 0-3; a pixel in two sets; an empty
        training or test set (also after the buffer).

    Warns
    -----
    UserWarning
        Test pixels inside training or validation patches (without ``buffer``); classes
        without training pixels (named by id and name).
    """
    labels = _check_labels(labels)
    if isinstance(window, bool) or not isinstance(window, Integral) or window < 3 \
            or window % 2 == 0:
        raise ConfigError(f"window must be an odd integer >= 3, got {window!r}")
    ids_of = np.asarray(class_ids, dtype=np.int64)
    if ids_of.size <= labels.max(initial=-1):
        raise DataError(f"class_ids has {ids_of.size} ids for class indices up to {labels.max()}")
    source = " + ".join(map(str, files)) or "split"
    names = list(class_names) if class_names is not None else [str(i) for i in ids_of.tolist()]
    for name, m in maps.items():
        if m.shape != labels.shape:
            raise DataError(f"{source}: the {name} map has shape {m.shape}, the scene's is "
                            f"{labels.shape} (rows, cols)")
    ids = np.where(labels >= 0, ids_of[np.maximum(labels, 0)], 0)
    masks = _masks(source, maps, ids, class_ids)
    given_val = "val" in masks and ("codes" not in maps or masks["val"].any())
    for name in ("train", "test", *(("val",) if given_val else ())):
        if not masks[name].any():
            raise DataError(f"{source}: the {_WORDS[name]} set is empty"
                            + ("; leave the validation map out to draw validation from the "
                               "training map" if name == "val" else ""))
    train, test = masks["train"], masks["test"]
    val = masks["val"] if given_val else np.zeros_like(train)
    before = int((test & _near(train | val, window)).sum())  # test pixels inside their patches
    dropped = {"train": np.zeros_like(train), "val": np.zeros_like(train)}
    if buffer:
        kept_train, kept_val, _ = buffer_split(train, val, test, window)
        for name, kept in (("training", kept_train), ("validation", kept_val)):
            if not kept.any() and (name == "training" or given_val):
                raise DataError(f"{source}: the buffer at window {window} leaves no {name} "
                                f"pixel: every one lies within {window // 2} pixels of a test "
                                "pixel")
        dropped = {"train": train & ~kept_train, "val": val & ~kept_val}
        train, val = kept_train, kept_val
    elif before:
        n_near = int(((train | val) & _near(test, window)).sum())
        warnings.warn(f"{source}: {before:,} of {int(test.sum()):,} test pixels lie inside a "
                      f"training or validation patch at window {window}, so their accuracy is "
                      f"optimistic and PCA is fitted on the whole cube; --split-buffer drops the "
                      f"{n_near:,} training and validation pixels near them", stacklevel=2)
    if not given_val:
        train, val = _draw_validation(train, labels, val_fraction, _check_seed(seed))
    no_train = _classes_without(train, labels)
    if no_train:
        warnings.warn(f"{source}: classes without training pixels: "
                      f"{', '.join(names[k] for k in no_train)}; the model cannot predict them",
                      stacklevel=2)
    info = {"protocol": "file", "files": [str(p) for p in files],
            "format": "codes" if "codes" in maps else "maps", "window": int(window),
            "validation": "file" if given_val else "drawn",
            "val_fraction": None if given_val else float(val_fraction),
            "seed": "generator" if isinstance(seed, np.random.Generator) else int(seed),
            "buffer": bool(buffer), "test_in_patches_before_buffer": before,
            "leakage_free": bool(buffer or before == 0)}
    return _assemble(labels, names, train, val, test, dropped, info)


def _classes_without(mask: np.ndarray, labels: np.ndarray) -> list[int]:
    """Class indices present in ``labels`` with no pixel in ``mask``."""
    present = np.unique(labels[labels >= 0])
    return [int(k) for k in np.setdiff1d(present, labels[mask & (labels >= 0)])]


def _draw_validation(train: np.ndarray, labels: np.ndarray, val_fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Move ``floor(val_fraction * n)`` (>= 1, <= n - 1) training pixels of each class to val."""
    if isinstance(val_fraction, bool) or not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be a fraction in (0, 1), got {val_fraction!r}")
    flat_train, val = train.ravel().copy(), np.zeros(train.size, dtype=bool)
    flat = labels.ravel()
    for k in np.unique(flat[flat_train]):
        idx = np.flatnonzero(flat_train & (flat == k))
        n_val = 0 if idx.size < 2 else min(max(int(np.floor(val_fraction * idx.size)), 1),
                                           idx.size - 1)
        val[rng.permutation(idx)[:n_val]] = True
    flat_train &= ~val
    return flat_train.reshape(train.shape), val.reshape(train.shape)


def _assemble(labels: np.ndarray, names: list[str], train: np.ndarray, val: np.ndarray,
              test: np.ndarray, dropped: dict[str, np.ndarray], info: dict[str, Any]) -> Split:
    """The :class:`Split`, its notes (classes missing from a set, the buffer) and counts."""
    window = info["window"]
    notes = []
    for word, mask in (("training", train), ("validation", val), ("test", test)):
        absent = _classes_without(mask, labels)
        if absent:
            notes.append(f"classes without {word} pixels: {', '.join(names[k] for k in absent)}")
    per_class = {}  # str keys: JSON-stable
    for k in np.unique(labels[labels >= 0]):
        counts = {n: int((m & (labels == k)).sum()) for n, m in dropped.items()}
        if any(counts.values()):
            per_class[str(int(k))] = counts
    buffer = dropped["train"] | dropped["val"]
    if info["buffer"]:
        listing = "; ".join(f"{names[int(k)]}: {c['train']} training, {c['val']} validation"
                            for k, c in per_class.items()) or "none"
        notes.append(f"buffer at window {window}: {int(buffer.sum()):,} pixels dropped whose "
                     f"{window} x {window} patch held a test pixel ({listing})")
    info |= {"buffer_dropped_per_class": per_class,
             "buffer_dropped": {n: int(m.sum()) for n, m in dropped.items()},
             "unused_labelled": int(((labels >= 0) & ~(train | val | test | buffer)).sum())}
    return Split(np.flatnonzero(train), np.flatnonzero(val), np.flatnonzero(test),
                 discarded=np.flatnonzero(buffer), notes=tuple(notes), info=info)


def preprocessing_on_training(config: HSIConfig, split: Split) -> bool:
    """Whether a run fits PCA and scaling on its training pixels only (else on the whole cube).

    The leakage-free protocols do: ``disjoint``, and a split file in which no test pixel lies
    inside a training or validation patch (after the buffer, if any). The paper protocol and a
    leaking split file fit on the whole cube, as the paper does.
    """
    if config.split_file is not None:
        return bool(split.info.get("leakage_free"))
    return config.protocol == "disjoint"

