"""Fixed splits from files: a user's or the community's train / test label maps.

``spectranet hsi train --split-file FILE`` (:attr:`spectranet.config.HSIConfig.split_file`)
replaces the drawn split by one given as maps of the scene's size (rows, cols). Accepted:

- **one** ``.npz`` **or** ``.mat`` **file with named label maps**: ``train`` and ``test``, and
  optionally ``val``, matched case-insensitively, also as ``tr`` / ``te`` / ``va`` (the
  community's ``TR`` / ``TE``), ``train_gt`` / ``test_gt`` / ``val_gt``, ``training`` /
  ``testing`` / ``validation``. Other arrays in the file (a cube) are ignored.
- **one file holding a single array** (``.npy``, ``.tif``, or a ``.mat`` / ``.npz`` with one
  array): either a 2-D map of set codes, ``0`` = not used, ``1`` = training, ``2`` = test,
  ``3`` = validation (each pixel's class is then the scene's ground truth), or a stack of 2 or
  3 label maps in the order training, test[, validation], as (n, rows, cols) or
  (rows, cols, n): a multi-page TIFF holds one map per page.
- **two files**, the training map then the test map (``--split-file train.tif --split-file
  test.tif``), each holding one 2-D label map.

A label map holds the scene's own class ids (those of its ground truth, e.g. 1-16 for Indian
Pines), ``0`` = not in this set. Every pixel of a map must carry the ground truth's id there.
Without a validation map, validation is ``val_fraction`` of each class's training pixels
(``floor(val_fraction * n)``, at least 1 of 2 or more, leaving one for training), drawn at
random with the run's seed; those pixels lie among training pixels, so the leakage check counts
them inside training patches.

Leakage at the run's window: a test pixel inside a training or validation patch
(``window x window`` around its centre) is reported, before training (a warning) and in the
run's ``metrics.json`` and report; ``buffer=True`` (``--split-buffer``) instead drops every
training and validation pixel whose patch contains a test pixel, reporting how many per class.
PCA and scaling are fitted on training pixels only when no test pixel lies inside a training or
validation patch, else on the whole cube (:func:`preprocessing_on_training`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from spectranet.engine.runs import atomic_write_bytes
from spectranet.errors import DataError, DataNotFoundError
from spectranet.hsi.fixed_split import fixed_split
from spectranet.hsi.readers import check_integers, list_arrays, read_array
from spectranet.hsi.splits import Split

__all__ = ["read_split_maps", "load_split_file", "save_split_file", "SPLIT_NAMES"]

PathLike = str | os.PathLike[str]

#: Names of each map in a ``.npz`` / ``.mat`` split file (compared in lower case).
SPLIT_NAMES: Mapping[str, tuple[str, ...]] = {
    "train": ("train", "tr", "train_gt", "training"),
    "test": ("test", "te", "test_gt", "testing"),
    "val": ("val", "va", "val_gt", "validation"),
}
_SETS = ("train", "test", "val")


def _paths(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    out = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if len(out) not in (1, 2):
        raise DataError(f"a split is one file or two (training map, test map), got {len(out)}")
    for path in out:
        if not path.is_file():
            raise DataNotFoundError(f"{path}: no such split file")
    return out


def _integers(path: Path, name: str, array: np.ndarray) -> np.ndarray:
    """``array`` as int64, refusing non-integer values and negative ones."""
    check_integers(array, path, f"the {name} map")
    out = array.astype(np.int64)
    if out.size and out.min() < 0:
        raise DataError(f"{path}: the {name} map has {np.count_nonzero(out < 0)} negative values "
                        "(ids are >= 0, 0 = not in this set)")
    return out


def _check_shape(path: Path, name: str, array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.shape != tuple(shape):
        raise DataError(f"{path}: the {name} map has shape {tuple(array.shape)}, the scene's is "
                        f"{tuple(shape)} (rows, cols)")
    return _integers(path, name, array)


def _single(path: Path, array: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """A single array: a 2-D map of set codes, or a stack of 2 or 3 label maps."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return {"codes": _check_shape(path, "code", array, shape)}
    if array.ndim == 3 and array.shape[1:] == tuple(shape) and array.shape[0] in (2, 3):
        maps = list(array)
    elif array.ndim == 3 and array.shape[:2] == tuple(shape) and array.shape[2] in (2, 3):
        maps = list(np.moveaxis(array, 2, 0))
    else:
        raise DataError(f"{path}: expected a map of set codes {tuple(shape)} or 2-3 label maps "
                        f"(train, test[, val]) stacked as (n, {shape[0]}, {shape[1]}) or "
                        f"({shape[0]}, {shape[1]}, n), got shape {tuple(array.shape)}")
    return {name: _integers(path, name, m) for name, m in zip(_SETS, maps, strict=False)}


def _named(path: Path, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """The maps of a ``.npz`` / ``.mat`` file, by name, or its single array."""
    arrays = list_arrays(path)
    found = {}
    for name, aliases in SPLIT_NAMES.items():
        hits = [k for k in arrays if k.lower() in aliases]
        if len(hits) > 1:
            raise DataError(f"{path}: several {name} maps: {', '.join(hits)}")
        if hits:
            found[name] = hits[0]
    if not found and len(arrays) == 1:
        return _single(path, read_array(path, next(iter(arrays))), shape)
    listing = ", ".join(f"{k} {tuple(s)}" for k, s in arrays.items()) or "none"
    missing = [n for n in ("train", "test") if n not in found]
    if missing:
        raise DataError(f"{path}: no {' and no '.join(missing)} map (arrays present: {listing}); "
                        "name them train and test (optionally val)")
    return {name: _check_shape(path, name, read_array(path, key), shape)
            for name, key in found.items()}


def read_split_maps(
    paths: PathLike | Sequence[PathLike], shape: tuple[int, int]
) -> dict[str, np.ndarray]:
    """Read a split file's maps (see the module docstring for the formats).

    Parameters
    ----------
    paths : path-like, or a sequence of one or two
        One split file, or a training-map file and a test-map file.
    shape : (rows, cols)
        The scene's spatial size; every map must have it.

    Returns
    -------
    dict of str to ndarray of int64, shape (rows, cols)
        ``train``, ``test`` and, if given, ``val`` label maps (class ids, 0 = not in the set);
        or ``codes`` alone (0 unused, 1 training, 2 test, 3 validation). Values are not yet
        checked against the scene (:func:`load_split_file` does).

    Raises
    ------
    DataNotFoundError
        A file is missing.
    DataError
        An unreadable file, no train or test map, a wrong shape, non-integer or negative values.
    """
    files = _paths(paths)
    shape = (int(shape[0]), int(shape[1]))
    if len(files) == 2:
        return {name: _check_shape(path, name, read_array(path, ndim=2), shape)
                for name, path in zip(("train", "test"), files, strict=True)}
    (path,) = files
    if path.suffix.lower() in (".npz", ".mat"):
        return _named(path, shape)
    return _single(path, read_array(path), shape)




def load_split_file(
    paths: PathLike | Sequence[PathLike],
    labels: np.ndarray,
    class_ids: Sequence[int],
    *,
    window: int,
    seed: int | np.random.Generator,
    val_fraction: float = 0.5,
    buffer: bool = False,
    class_names: Sequence[str] | None = None,
) -> Split:
    """A scene's split from a split file, checked against the scene, with its leakage.

    :func:`read_split_maps`, then :func:`spectranet.hsi.fixed_split.fixed_split`: the same
    parameters (``paths`` instead of ``maps``), result, errors and warnings.

    Examples
    --------
    >>> split = load_split_file("split.npz", scene.labels, scene.class_ids, window=11, seed=0)
    >>> split.info["leakage_free"], split.notes
    """
    files = _paths(paths)
    return fixed_split(read_split_maps(files, labels.shape), labels, class_ids, window=window,
                       seed=seed, val_fraction=val_fraction, buffer=buffer,
                       class_names=class_names, files=files)


def save_split_file(path: PathLike, split: Split, labels: np.ndarray,
                    class_ids: Sequence[int]) -> Path:
    """Write a split as a split file: ``.npz`` with ``train``, ``val`` and ``test`` label maps.

    Each map (rows, cols) holds the scene's class ids on its set's pixels and 0 elsewhere, so
    ``--split-file`` reads it back as the same sets (the buffer is not written).

    Parameters
    ----------
    path : path-like
        The ``.npz`` file, written atomically.
    split : Split
    labels : ndarray of int, shape (rows, cols)
        Class index 0..K-1 per pixel, -1 = unlabelled.
    class_ids : sequence of int, length K
        The scene's id of each class index.

    Returns
    -------
    Path
    """
    ids = np.asarray(class_ids, dtype=np.int32)
    flat = labels.ravel()
    maps = {}
    for name in ("train", "val", "test"):
        m = np.zeros(flat.size, dtype=np.int32)
        indices = getattr(split, name)
        m[indices] = ids[flat[indices]]
        maps[name] = m.reshape(labels.shape)
    buf = io.BytesIO()
    np.savez_compressed(buf, **maps)
    return atomic_write_bytes(path, buf.getvalue())
