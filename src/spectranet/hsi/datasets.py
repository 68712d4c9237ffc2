"""Hyperspectral scenes loaded and validated: a registered scene or a user's cube and labels.

:func:`load_scene` (a scene of the registry in :mod:`spectranet.hsi.scenes`) and
:func:`load_cube` (any cube and label map :func:`read_array` reads: ``.mat`` v5 and v7.3,
``.npy``, ``.npz``, ENVI) return a validated :class:`Scene` whose labels are contiguous class
indices 0..K-1 (-1 = unlabelled), with the original ids kept in ``class_ids``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spectranet.datahome import data_home
from spectranet.errors import ConfigError, DataError, DataNotFoundError
from spectranet.hsi.readers import check_integers, read_array
from spectranet.hsi.scenes import RGB, SceneInfo, default_palette, get_scene_info, list_scenes

__all__ = [
    "SceneInfo",
    "Scene",
    "list_scenes",
    "get_scene_info",
    "read_array",
    "read_labels",
    "warn_constant_bands",
    "load_scene",
    "load_cube",
    "default_palette",
]

PathLike = str | os.PathLike[str]
_MAX_ID = int(np.iinfo(np.int32).max)


@dataclass(frozen=True, eq=False)
class Scene:
    """A loaded, validated scene.

    Attributes
    ----------
    name : str
    cube : ndarray, shape (H, W, B), float32
        Finite values, original units (no scaling).
    labels : ndarray, shape (H, W), int64
        -1 = unlabelled, 0..K-1 = index into ``class_ids``.
    class_ids : tuple of int, length K
        Original ground-truth ids.
    class_names : tuple of str, length K
    palette : tuple of (int, int, int), length K
        RGB colours, 0-255.
    rgb_bands : (int, int, int)
        Preview band indices.
    source : dict
        ``{"cube": path, "gt": path}`` as strings.
    """

    name: str
    cube: np.ndarray
    labels: np.ndarray
    class_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    palette: tuple[RGB, ...]
    rgb_bands: tuple[int, int, int]
    source: dict[str, str] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        """Number of classes K."""
        return len(self.class_ids)

    @property
    def n_bands(self) -> int:
        """Number of spectral bands B."""
        return int(self.cube.shape[2])


# ----------------------------------------------------------------------------------- scenes
def read_labels(
    path: PathLike, variable: str | None = None, *, class_ids: Sequence[int] | None = None
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Read a ground-truth map and map its ids to contiguous class indices.

    Parameters
    ----------
    path : path-like
        Ground-truth file, any format :func:`read_array` reads; shape (H, W) or (H, W, 1).
    variable : str or None, default None
        Variable or key; None picks the only (or the only 2-D) array.
    class_ids : sequence of int or None, default None
        Ids that define the classes (a registered scene's); None = the non-zero ids present.

    Returns
    -------
    labels : ndarray, shape (H, W), int64
        -1 where the gt is 0 (unlabelled), else the index of the id in ``class_ids``.
    class_ids : tuple of int
        The ids, in class-index order.

    Raises
    ------
    DataError
        Not 2-D, non-integer or negative labels, no labelled pixel, ids outside ``class_ids``.
    """
    gt = read_array(path, variable, ndim=2)
    if gt.ndim == 3 and gt.shape[2] == 1:
        gt = gt[:, :, 0]
    if gt.ndim != 2:
        raise DataError(f"{path}: label map must be 2-D (rows, cols), got shape {gt.shape}")
    if gt.size == 0:
        raise DataError(f"{path}: label map is empty (shape {gt.shape})")
    check_integers(gt, path, "label map")
    ids, inverse = np.unique(gt, return_inverse=True)
    if ids[0] < 0:
        raise DataError(f"{path}: label map has {np.count_nonzero(gt < 0)} negative values "
                        f"(min {ids[0]}); labels must be >= 0 with 0 = unlabelled")
    if ids[-1] > _MAX_ID:  # split files and maps store ids as int32
        raise DataError(f"{path}: label id {int(ids[-1])} is too large; ids must be at most "
                        f"{_MAX_ID} (int32)")
    present = [int(i) for i in ids if i > 0]
    if not present:
        raise DataError(f"{path}: no labelled pixel (every label is 0 = unlabelled)")
    classes = tuple(int(i) for i in class_ids) if class_ids is not None else tuple(present)
    unknown = sorted(set(present) - set(classes))
    if unknown:
        raise DataError(f"{path}: label ids {unknown} are not among the class ids {list(classes)}")
    index = {cid: k for k, cid in enumerate(classes)}
    lut = np.array([index.get(int(i), -1) for i in ids], dtype=np.int64)
    return lut[inverse.reshape(gt.shape)], classes


def read_cube(path: PathLike, variable: str | None = None) -> np.ndarray:
    """Read a cube (H, W, B) as C-contiguous float32.

    :class:`DataError` if it is not 3-D, not real numbers, or holds NaN/inf.
    """
    raw = read_array(path, variable, ndim=3)
    if raw.ndim != 3:
        raise DataError(f"{path}: cube must be 3-D (rows, cols, bands), got shape {raw.shape}")
    if raw.dtype.kind not in "biuf":
        raise DataError(f"{path}: cube must be real numbers, got dtype {raw.dtype}")
    with np.errstate(over="ignore"):
        cube = np.ascontiguousarray(raw, dtype=np.float32)
    bad = cube.size - np.count_nonzero(np.isfinite(cube))
    if bad:
        raise DataError(f"{path}: cube has {bad} NaN/inf values (as float32) out of {cube.size}")
    warn_constant_bands(cube, path)
    return cube


def warn_constant_bands(cube: np.ndarray, path: PathLike) -> None:
    """Warn (UserWarning) about bands with zero variance, or a cube that is constant.

    Such bands carry no information (and would divide by zero in a per-band scaling); a
    constant cube gives a model nothing to learn from.

    Parameters
    ----------
    cube : ndarray, shape (H, W, B)
    path : path-like
        Named in the message.
    """
    if cube.size == 0:
        return
    flat = cube.reshape(-1, cube.shape[-1])
    flat_bands = np.flatnonzero(np.all(flat == flat[:1], axis=0))
    if len(flat_bands) == cube.shape[-1]:
        values = np.unique(flat[0])
        what = f"every value is {values[0]:g}" if len(values) == 1 else "every pixel is the same"
        warnings.warn(f"{path}: the cube is constant ({what}); a model has nothing to learn "
                      "from it", UserWarning, stacklevel=2)
    elif len(flat_bands):
        shown = ", ".join(map(str, flat_bands[:8])) + (", ..." if len(flat_bands) > 8 else "")
        warnings.warn(f"{path}: {len(flat_bands)} of {cube.shape[-1]} bands have zero variance "
                      f"(bands {shown}, from 0); they carry no information", UserWarning,
                      stacklevel=2)


def check_same_grid(cube: np.ndarray, labels: np.ndarray, cube_path: PathLike,
                    gt_path: PathLike) -> None:  # fmt: skip
    """:class:`DataError` unless the cube and the label map cover the same rows and columns."""
    if cube.shape[:2] != labels.shape:
        raise DataError(f"{cube_path} has shape {cube.shape} but label map {gt_path} has shape "
                        f"{labels.shape}: spatial sizes (rows, cols) differ")


def load_scene(name: str, root: PathLike | None = None) -> Scene:
    """Load a registered scene from ``<root>/hsi/<folder>/``.

    Parameters
    ----------
    name : str
        One of :func:`list_scenes`.
    root : path-like or None, default None
        Data root; None = :func:`spectranet.datahome.data_home`.

    Returns
    -------
    Scene
        With the registry's class ids (all K of them, even if a class is absent), names,
        palette and preview bands.

    Raises
    ------
    ConfigError
        Unknown scene name.
    DataNotFoundError
        A file is missing; the message says ``spectranet data download NAME`` fetches it.
    DataError
        Invalid files (see :func:`load_cube`) or a shape other than the registered one.

    Examples
    --------
    >>> scene = load_scene("indian_pines")  # doctest: +SKIP
    >>> scene.cube.shape, scene.n_classes  # doctest: +SKIP
    ((145, 145, 200), 16)
    """
    info = get_scene_info(name)
    folder = data_home(root) / "hsi" / info.folder
    cube_path, gt_path = folder / info.cube.filename, folder / info.gt.filename
    for path in (cube_path, gt_path):
        if not path.is_file():
            raise DataNotFoundError(f"{path} is missing: `spectranet data download {name}` "
                                    "fetches it (or pass --cube/--gt)")  # fmt: skip
    labels, ids = read_labels(gt_path, info.gt_variable, class_ids=info.class_ids)
    if labels.shape != info.shape[:2]:
        raise DataError(
            f"{gt_path}: expected shape {info.shape[:2]} for {name}, got {labels.shape}"
        )
    absent = [n for k, n in enumerate(info.class_names) if not np.any(labels == k)]
    if absent:
        warnings.warn(f"{gt_path}: classes without any labelled pixel: {absent}", stacklevel=2)
    cube = read_cube(cube_path, info.cube_variable)
    if cube.shape != info.shape:
        raise DataError(f"{cube_path}: expected shape {info.shape} for {name}, got {cube.shape}")
    return Scene(name, cube, labels, ids, info.class_names, info.palette, info.rgb_bands,
                 {"cube": str(cube_path), "gt": str(gt_path)})  # fmt: skip


def load_cube(cube_path: PathLike, gt_path: PathLike, *, cube_variable: str | None = None,
              gt_variable: str | None = None, name: str | None = None,
              class_names: Sequence[str] | None = None,
              rgb_bands: Sequence[int] | None = None) -> Scene:  # fmt: skip
    """Load a user's cube and label map (not registered) as a :class:`Scene`.

    Parameters
    ----------
    cube_path : path-like
        Cube (H, W, B) in any format :func:`read_array` reads.
    gt_path : path-like
        Label map (H, W): 0 = unlabelled, other non-negative integer ids = classes.
    cube_variable, gt_variable : str or None, default None
        Variable or key; None picks the only (or only 3-D / 2-D) array.
    name : str or None, default None
        Scene name; None = the cube's file stem.
    class_names : sequence of str or None, default None
        One per id present, in ascending id order; None = ``"class <id>"``.
    rgb_bands : three ints or None, default None
        Preview band indices in [0, B); None = bands at 60 %, 30 % and 10 % of the range.

    Returns
    -------
    Scene
        Classes are the non-zero ids present, ascending; palette from matplotlib's tab20.

    Raises
    ------
    DataNotFoundError
        A file or variable is missing.
    DataError
        Cube not 3-D, label map not 2-D, different spatial sizes, NaN/inf in the cube,
        no labelled pixel, negative or non-integer labels.
    ConfigError
        ``class_names`` or ``rgb_bands`` do not fit the data.
    """
    for path in (cube_path, gt_path):
        if not Path(path).is_file():
            raise DataNotFoundError(f"{path}: no such file")
    if rgb_bands is not None and len(rgb_bands) != 3:
        raise ConfigError(f"rgb_bands must be three band indices, got {list(rgb_bands)}")
    labels, ids = read_labels(gt_path, gt_variable)
    if class_names is not None and len(class_names) != len(ids):
        raise ConfigError(f"class_names has {len(class_names)} entries but {gt_path} has "
                          f"{len(ids)} classes (ids {list(ids)})")
    cube = read_cube(cube_path, cube_variable)
    check_same_grid(cube, labels, cube_path, gt_path)
    bands = cube.shape[2]
    rgb = tuple(int(b) for b in rgb_bands) if rgb_bands is not None else tuple(
        int(f * (bands - 1)) for f in (0.6, 0.3, 0.1))
    if not all(0 <= b < bands for b in rgb):
        raise ConfigError(f"rgb_bands must lie in [0, {bands}), got {list(rgb)}")
    names = tuple(class_names) if class_names is not None else tuple(f"class {i}" for i in ids)
    return Scene(name or Path(cube_path).stem, cube, labels, ids, names, default_palette(len(ids)),
                 rgb, {"cube": str(cube_path), "gt": str(gt_path)})  # type: ignore[arg-type]
