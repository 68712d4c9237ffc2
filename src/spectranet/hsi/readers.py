"""Array readers for cubes and label maps: ``.mat`` (v5 and v7.3), ``.npy``, ``.npz``, ENVI, TIFF.

One generic entry point, :func:`read_array`, dispatches on the file suffix; it serves the
registered scenes and a user's own files alike. :func:`list_arrays` names the arrays of a
``.mat`` or ``.npz`` file.
"""

from __future__ import annotations

import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.errors import DataError, DataNotFoundError, SpectranetError

__all__ = ["read_array", "list_arrays", "check_integers", "read_class_names"]

PathLike = str | os.PathLike[str]

#: What NumPy's and SciPy's readers raise on a damaged file (a cut, a flipped byte, zeros).
_DAMAGED = (ValueError, EOFError, OSError, SyntaxError, tokenize.TokenError, IndexError,
            KeyError, OverflowError, UnicodeDecodeError)

_ENVI_DTYPES = {1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 12: "u2", 13: "u4", 14: "i8", 15: "u8"}
_ENVI_BINARY_SUFFIXES = ("", ".img", ".dat", ".raw", ".bin", ".bsq", ".bil", ".bip")


def read_array(
    path: PathLike, variable: str | None = None, *, ndim: int | None = None
) -> np.ndarray:
    """Read one array from ``.mat`` (v5 or v7.3), ``.npy``, ``.npz``, ENVI or TIFF, by suffix.

    Parameters
    ----------
    path : path-like
        The file. For ENVI, either the ``.hdr`` header or the binary file beside it.
    variable : str or None, default None
        ``.mat`` variable or ``.npz`` key (ignored for ``.npy`` and ENVI). If None and the file
        holds several arrays, the single one with ``ndim`` dimensions is taken.
    ndim : int or None, default None
        Expected dimensionality used to pick among several arrays (3 for cubes, 2 for labels).

    Returns
    -------
    ndarray
        The array in its stored dtype, axes as MATLAB/NumPy show them; ENVI gives
        (lines, samples, bands) in native byte order. MATLAB v7.3 axes are reversed back.
        TIFF (``.tif``, ``.tiff``, GeoTIFF too) gives the image as stored: (rows, cols),
        (rows, cols, samples) when pixel-interleaved, (n, rows, cols) for n pages or separate
        planes, in file order.

    Raises
    ------
    DataNotFoundError
        Missing file, missing variable (the message lists the variables present), ENVI header
        without binary.
    DataError
        Unknown suffix, unreadable file, ambiguous choice of array, bad ENVI header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return _read_mat(path, variable, ndim)
    if suffix == ".npy":
        try:
            with path.open("rb") as fh:
                _check_npy_header(fh, path.stat().st_size, str(path))
            return np.load(path, allow_pickle=False)
        except SpectranetError:
            raise
        except _DAMAGED as exc:  # a damaged header fails in the parser, a short body in read
            raise DataError(f"{path}: not a readable .npy array ({type(exc).__name__}: "
                            f"{str(exc)[:120]})") from None
    if suffix == ".npz":
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".npy"):
                        with archive.open(info) as fh:
                            _check_npy_header(fh, info.file_size, f"{path} ({info.filename})")
            with np.load(path, allow_pickle=False) as archive:
                shapes = {key: archive[key].shape for key in archive.files}
                return archive[_choose(path, shapes, variable, ndim)]
        except SpectranetError:
            raise
        except (*_DAMAGED, zipfile.BadZipFile) as exc:
            raise DataError(f"{path}: not a readable .npz archive ({exc})") from exc
    if suffix in (".tif", ".tiff"):
        return _read_tiff(path)
    if suffix == ".hdr":
        binary = next((c for s in _ENVI_BINARY_SUFFIXES if (c := path.with_suffix(s)).is_file()
                       and c != path), None)  # fmt: skip
        if binary is None:
            raise DataNotFoundError(f"{path}: no ENVI binary file beside the header "
                                    f"(looked for {path.stem} + {_ENVI_BINARY_SUFFIXES})")
        return _read_envi(path, binary)
    header = next((h for h in (path.with_suffix(".hdr"), Path(f"{path}.hdr")) if h.is_file()), None)
    if header is not None:
        return _read_envi(header, path)
    raise DataError(f"{path}: unknown file type {suffix!r}; supported: .mat (v5, v7.3), .npy, "
                    ".npz, ENVI (.hdr + binary), .tif")


def _check_npy_header(fh: Any, size: int, where: str) -> None:
    """Refuse a ``.npy`` stream whose header declares more bytes than ``size`` holds.

    NumPy allocates the declared array before reading it, so a header declaring terabytes
    would end in a memory error instead of a refusal; here the header alone is read.

    Raises
    ------
    DataError
        The declared shape and dtype need more bytes than the file (or archive member) has.
    ValueError
        Not a ``.npy`` header (NumPy's own error, turned into a DataError by the caller).
    """
    version = np.lib.format.read_magic(fh)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, _, dtype = read_header(fh)
    needed = math.prod(shape) * dtype.itemsize
    present = size - fh.tell()
    if needed > present:
        raise DataError(f"{where}: the .npy header declares shape {tuple(shape)} of {dtype} "
                        f"({needed:,} bytes) but {max(present, 0):,} bytes follow it; a damaged "
                        "or forged file")


def list_arrays(path: PathLike) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the arrays in a ``.mat`` (v5 or v7.3) or ``.npz`` file.

    Parameters
    ----------
    path : path-like
        A ``.mat`` or ``.npz`` file; other files hold one array and have no names.

    Returns
    -------
    dict of str to tuple of int
        Variable name -> shape, in file order (MATLAB v7.3 shapes as MATLAB shows them).

    Raises
    ------
    DataNotFoundError
        Missing file.
    DataError
        Not a ``.mat`` or ``.npz`` file, or unreadable.
    """
    import h5py
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {key: archive[key].shape for key in archive.files}
        if suffix == ".mat" and h5py.is_hdf5(path):
            with h5py.File(path, "r") as mat:
                return {k: v.shape[::-1] for k, v in mat.items()
                        if isinstance(v, h5py.Dataset) and not k.startswith("#")}
        if suffix == ".mat":
            return {n: tuple(s) for n, s, _ in scipy.io.whosmat(path)}
    except (*_DAMAGED, zipfile.BadZipFile, TypeError, NotImplementedError, zlib.error,
            RuntimeError) as exc:
        raise DataError(f"{path}: not a readable {suffix} file ({type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    raise DataError(f"{path}: only .mat and .npz files hold named arrays, got {suffix!r}")


def check_integers(array: np.ndarray, path: PathLike, what: str) -> None:
    """Refuse an array of labels that are not integers (floats holding whole numbers pass).

    Raises
    ------
    DataError
        ``"<path>: <what> must hold integers, ..."``: NaN, inf or fractional values (counted),
        or a non-numeric dtype.
    """
    if array.dtype.kind == "f":
        bad = np.count_nonzero(~np.isfinite(array) | (array != np.round(array)))
        if bad:
            raise DataError(f"{path}: {what} must hold integers, {bad} values are not")
    elif array.dtype.kind not in "biu":
        raise DataError(f"{path}: {what} must hold integers, got dtype {array.dtype}")


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            images = [series.asarray() for series in tif.series]
    except (*_DAMAGED, struct.error, tifffile.TiffFileError) as exc:
        raise DataError(f"{path}: not a readable TIFF file ({type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    if not images:
        raise DataError(f"{path}: not a readable TIFF file (no image in it)")
    if len(images) == 1:
        return images[0]
    if any(a.ndim != 2 or a.shape != images[0].shape for a in images):
        raise DataError(f"{path}: a TIFF file of several images must hold 2-D images of one "
                        f"size, got shapes {[tuple(a.shape) for a in images]}")
    return np.stack(images)


def _choose(path: Path, shapes: dict[str, tuple[int, ...]], variable: str | None,
            ndim: int | None) -> str:  # fmt: skip
    listing = ", ".join(f"{k} {tuple(s)}" for k, s in shapes.items()) or "none"
    if variable is not None:
        if variable not in shapes:
            raise DataNotFoundError(
                f"{path}: no variable {variable!r}; variables present: {listing}"
            )
        return variable
    if len(shapes) == 1:
        return next(iter(shapes))
    matches = [k for k, s in shapes.items() if ndim is not None and len(s) == ndim]
    if len(matches) == 1:
        return matches[0]
    raise DataError(f"{path}: cannot choose an array among: {listing}; pass the variable name")


def _read_mat(path: Path, variable: str | None, ndim: int | None) -> np.ndarray:
    import h5py
    import scipy.io
    from scipy.io.matlab import MatReadError

    if h5py.is_hdf5(path):  # MATLAB v7.3
        try:
            with h5py.File(path, "r") as mat:
                datasets = {k: v for k, v in mat.items()
                            if isinstance(v, h5py.Dataset) and not k.startswith("#")}
                name = _choose(path, {k: v.shape[::-1] for k, v in datasets.items()}, variable,
                               ndim)
                if datasets[name].dtype.kind not in "biuf":
                    raise DataError(f"{path}: variable {name!r} is not a real numeric array "
                                    f"(MATLAB class {datasets[name].attrs.get('MATLAB_class')!r})")
                # MATLAB stores column-major: h5py shows the axes reversed.
                return datasets[name][()].transpose()
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            if isinstance(exc, SpectranetError):
                raise
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{path}: damaged MATLAB v7.3 (HDF5) file ({reason}); for a "
                            "registered scene, `spectranet data verify NAME` checks its files"
                            ) from None
    try:
        shapes = {n: s for n, s, _ in scipy.io.whosmat(path)}
        name = _choose(path, shapes, variable, ndim)
        return np.asarray(scipy.io.loadmat(path, variable_names=[name])[name])
    except SpectranetError:
        raise
    except (*_DAMAGED, TypeError, NotImplementedError, zlib.error, MatReadError) as exc:
        raise DataError(f"{path}: not a readable MATLAB file ({exc}); for a registered scene, "
                        "`spectranet data verify NAME` checks its files") from exc


def _parse_envi_header(header: Path) -> dict[str, str]:
    lines = header.read_text(errors="replace").splitlines()
    if not lines or lines[0].strip() != "ENVI":
        raise DataError(f"{header}: not an ENVI header (first line must be 'ENVI')")
    fields: dict[str, str] = {}
    key, pending = None, ""
    for line in lines[1:]:
        if key is not None:  # inside a multi-line {...} value
            pending += " " + line.strip()
        elif "=" in line:
            key, pending = (part.strip() for part in line.split("=", 1))
            key = key.lower()
        if key is not None and (not pending.startswith("{") or "}" in pending):
            fields[key], key = pending, None
    return fields


def _read_envi(header: Path, binary: Path) -> np.ndarray:
    fields = _parse_envi_header(header)
    values = {}
    for key, default in (("samples", None), ("lines", None), ("bands", None),
                         ("data type", None), ("byte order", 0), ("header offset", 0)):  # fmt: skip
        raw = fields.get(key, default)
        try:
            values[key] = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise DataError(f"{header}: ENVI field {key!r} must be an integer, "
                            f"got {raw!r}") from None  # fmt: skip
    interleave = fields.get("interleave", "bsq").strip().lower()
    if interleave not in ("bsq", "bil", "bip"):
        raise DataError(f"{header}: interleave must be bsq, bil or bip, got {interleave!r}")
    if values["data type"] not in _ENVI_DTYPES:
        raise DataError(f"{header}: unsupported ENVI data type {values['data type']}; "
                        f"supported: {sorted(_ENVI_DTYPES)}")
    if values["byte order"] not in (0, 1):
        raise DataError(f"{header}: byte order must be 0 or 1, got {values['byte order']}")
    rows, cols, bands = values["lines"], values["samples"], values["bands"]
    dtype = np.dtype(_ENVI_DTYPES[values["data type"]]).newbyteorder(
        "<" if values["byte order"] == 0 else ">")
    count, offset = rows * cols * bands, values["header offset"]
    needed, size = offset + count * dtype.itemsize, binary.stat().st_size
    if size < needed:
        raise DataError(
            f"{binary}: ENVI data too short: header needs {needed} bytes, file has {size}"
        )
    flat = np.fromfile(binary, dtype=dtype, count=count, offset=offset)
    if interleave == "bsq":
        cube = flat.reshape(bands, rows, cols).transpose(1, 2, 0)
    elif interleave == "bil":
        cube = flat.reshape(rows, bands, cols).transpose(0, 2, 1)
    else:
        cube = flat.reshape(rows, cols, bands)
    return np.ascontiguousarray(cube, dtype=dtype.newbyteorder("="))


def read_class_names(path: PathLike, ids: Sequence[int]) -> tuple[str, ...]:
    """Read the names of a label map's classes from a text file.

    Parameters
    ----------
    path : path-like
        UTF-8 text, one class per non-empty line, either ``<id> <name>`` for every id (any
        order; the name may contain spaces) or just ``<name>`` in ascending id order. Lines
        starting with ``#`` are ignored.
    ids : sequence of int
        The label map's class ids (non-zero ids present), ascending.

    Returns
    -------
    tuple of str
        One name per id, in ``ids`` order.

    Raises
    ------
    DataNotFoundError
        No such file.
    DataError
        Not text, duplicate names or ids, an id the label map does not have, or not one name
        per class.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such class-names file")
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError:
        raise DataError(f"{path}: class names must be UTF-8 text") from None
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    pairs = [ln.split(maxsplit=1) for ln in lines]
    if lines and all(len(p) == 2 and p[0].isdigit() for p in pairs):
        named = {int(i): name.strip() for i, name in pairs}
        if len(named) != len(pairs):
            raise DataError(f"{path}: an id is named twice")
        unknown = sorted(set(named) - set(ids))
        missing = [i for i in ids if i not in named]
        if unknown or missing:
            raise DataError(f"{path}: ids {unknown or missing} "
                            f"{'are not in the label map' if unknown else 'have no name'} "
                            f"(label map ids: {list(ids)})")
        names = tuple(named[i] for i in ids)
    elif len(lines) != len(ids):
        raise DataError(f"{path}: {len(lines)} names for {len(ids)} classes (label map ids: "
                        f"{list(ids)}); give one name per line in id order, or '<id> <name>'")
    else:
        names = tuple(lines)
    if len(set(names)) != len(names):
        raise DataError(f"{path}: class names must be distinct")
    return names
