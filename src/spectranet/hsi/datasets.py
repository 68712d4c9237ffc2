"""Hyperspectral scenes: the registry (as data), one generic array reader, and scene loading.

A :class:`SceneInfo` record holds everything about a public benchmark scene (files, ``.mat``
variables, original class ids and names, preview bands, palette, official EHU/GIC addresses and
canonical sha256). :func:`read_array` reads ``.mat`` (v5 and v7.3), ``.npy``, ``.npz`` and ENVI;
:func:`load_scene` and :func:`load_cube` return a validated :class:`Scene` whose labels are
contiguous class indices 0..K-1 (-1 = unlabelled), with the original ids kept in ``class_ids``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spectranet.datahome import RemoteFile, data_home
from spectranet.errors import ConfigError, DataError, DataNotFoundError
from spectranet.hsi.readers import check_integers, read_array

__all__ = [
    "SceneInfo",
    "Scene",
    "list_scenes",
    "get_scene_info",
    "read_array",
    "read_labels",
    "load_scene",
    "load_cube",
    "default_palette",
]

RGB = tuple[int, int, int]
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class SceneInfo:
    """Registry record of a public hyperspectral scene.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"indian_pines"``.
    folder : str
        Folder under ``<data root>/hsi/``.
    cube, gt : RemoteFile
        Cube and ground-truth files: file name, official URL, canonical sha256 (None when
        unknown: such a file is reported as unverified), size in bytes.
    cube_variable, gt_variable : str
        ``.mat`` variable names.
    shape : (int, int, int)
        Cube shape (rows, cols, bands) of the canonical file.
    class_ids : tuple of int
        The K original label ids as they appear in the ground truth, ascending (0 = unlabelled
        is never a class). Need not be contiguous (Salinas-A: 1, 10, 11, 12, 13, 14).
    class_names, palette : tuple, length K
        Name and RGB colour (0-255) of each class, in ``class_ids`` order.
    rgb_bands : (int, int, int)
        Band indices (0-based, into the full cube) for a red/green/blue preview.
    """

    name: str
    folder: str
    cube: RemoteFile
    cube_variable: str
    gt: RemoteFile
    gt_variable: str
    shape: tuple[int, int, int]
    class_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    rgb_bands: tuple[int, int, int]
    palette: tuple[RGB, ...]

    @property
    def files(self) -> tuple[RemoteFile, RemoteFile]:
        """The scene's files, cube first."""
        return (self.cube, self.gt)


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


# ----------------------------------------------------------------------------------- registry
# Official addresses on the EHU/GIC "Hyperspectral Remote Sensing Scenes" page. The MediaWiki
# upload path is /<h>/<hh>/<file> with hh = the first two hex digits of md5(file name), which
# confirms each address (e.g. md5("SalinasA_corrected.mat") starts with "1a").
_EHU = "https://www.ehu.eus/ccwintco/uploads"

# Distinct colours indexed by original class id - 1, so a subscene (Salinas-A) keeps its
# parent scene's colours.
_COLOURS: tuple[RGB, ...] = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
    (0, 128, 128), (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0),
    (170, 255, 195),
)  # fmt: skip

_SALINAS_NAMES = (
    "Brocoli_green_weeds_1", "Brocoli_green_weeds_2", "Fallow", "Fallow_rough_plow",
    "Fallow_smooth", "Stubble", "Celery", "Grapes_untrained", "Soil_vinyard_develop",
    "Corn_senesced_green_weeds", "Lettuce_romaine_4wk", "Lettuce_romaine_5wk",
    "Lettuce_romaine_6wk", "Lettuce_romaine_7wk", "Vinyard_untrained", "Vinyard_vertical_trellis",
)  # fmt: skip


def _file(path: str, sha256: str | None, size: int | None) -> RemoteFile:
    return RemoteFile(path.rsplit("/", 1)[-1], f"{_EHU}/{path}", sha256, size)


def _scene(
    name: str, cube: RemoteFile, cube_var: str, gt: RemoteFile, gt_var: str,
    shape: tuple[int, int, int], names: Sequence[str], rgb: tuple[int, int, int],
    ids: Sequence[int] | None = None,
) -> SceneInfo:  # fmt: skip
    ids = tuple(ids) if ids is not None else tuple(range(1, len(names) + 1))
    if ids != tuple(range(1, len(names) + 1)):  # a subscene: keep the parent's names by id
        names = tuple(names[i - 1] for i in ids)
    return SceneInfo(name, name, cube, cube_var, gt, gt_var, shape, ids, tuple(names), rgb,
                     tuple(_COLOURS[(i - 1) % len(_COLOURS)] for i in ids))  # fmt: skip


# Sums: /work/shared/data/hsi/SOURCES.md, table "Reference checksums of the canonical EHU files".
# Salinas_gt, KSC_gt, Botswana_gt and Pavia_gt have no canonical sum there (only sums of mirror
# copies), so they are None and reported as unverified.
_SCENES: dict[str, SceneInfo] = {s.name: s for s in (
    _scene("indian_pines",
           _file("6/67/Indian_pines_corrected.mat",
                 "ec2f8808710919d566f70f0d4aa885aae1ddfd42b734aba71c5e12ca65450939", 5953527),
           "indian_pines_corrected",
           _file("c/c4/Indian_pines_gt.mat",
                 "65c4687a8ab04f6da4789799bc3bc4f6e88bccac3ed6a2e6ae367e5e6b9e429c", 1125),
           "indian_pines_gt", (145, 145, 200),
           ("Alfalfa", "Corn-notill", "Corn-mintill", "Corn", "Grass-pasture", "Grass-trees",
            "Grass-pasture-mowed", "Hay-windrowed", "Oats", "Soybean-notill", "Soybean-mintill",
            "Soybean-clean", "Wheat", "Woods", "Buildings-Grass-Trees-Drives",
            "Stone-Steel-Towers"), (43, 21, 11)),
    _scene("pavia_university",
           _file("e/ee/PaviaU.mat",
                 "28447fa87f7a5797845e9a189c0da85e23b1d06a4ba7361e5ff44efbf834d2fb", 34806917),
           "paviaU",
           _file("5/50/PaviaU_gt.mat",
                 "23f6a426928f9b32984adffe659e29f554f9fb6c93b5a107528d308d5087a829", 11005),
           "paviaU_gt", (610, 340, 103),
           ("Asphalt", "Meadows", "Gravel", "Trees", "Painted metal sheets", "Bare Soil",
            "Bitumen", "Self-Blocking Bricks", "Shadows"), (55, 41, 12)),
    _scene("salinas",
           _file("a/a3/Salinas_corrected.mat",
                 "5ec1c0d22f56d18ecd336f8e35735863c0f160682e04e0c18ef3f89a3334d87d", 26552770),
           "salinas_corrected", _file("f/fa/Salinas_gt.mat", None, None), "salinas_gt",
           (512, 217, 204), _SALINAS_NAMES, (43, 21, 11)),
    _scene("salinas_a",
           _file("1/1a/SalinasA_corrected.mat",
                 "d75684ed3ab71a1024cee0f9db9061f50a3523a92ff5edfbbb1eed976b9f1721", 1539086),
           "salinasA_corrected",
           _file("a/aa/SalinasA_gt.mat",
                 "17814c1d3296c0e29b27f320f2c4174d2a68adb87e376abe78f02923e2c2e454", 587),
           "salinasA_gt", (83, 86, 204), _SALINAS_NAMES, (43, 21, 11),
           ids=(1, 10, 11, 12, 13, 14)),
    _scene("ksc",
           _file("2/26/KSC.mat",
                 "b1ad011cfdb65c853e4f9f6108ca4774467d87f90a5c23b74ff3a2984a3b4786", 56824624),
           "KSC", _file("a/a6/KSC_gt.mat", None, None), "KSC_gt", (512, 614, 176),
           ("Scrub", "Willow swamp", "Cabbage palm hammock", "Cabbage palm/oak hammock",
            "Slash pine", "Oak/broadleaf hammock", "Hardwood swamp", "Graminoid marsh",
            "Spartina marsh", "Cattail marsh", "Salt marsh", "Mud flats", "Water"),
           (43, 21, 11)),
    _scene("botswana",
           _file("7/72/Botswana.mat",
                 "f1603903c844cdc2980550b0180688e8e1a72d4292595d1120e1dec2a80a91c7", 78911133),
           "Botswana", _file("5/58/Botswana_gt.mat", None, None), "Botswana_gt",
           (1476, 256, 145),
           ("Water", "Hippo grass", "Floodplain grasses 1", "Floodplain grasses 2", "Reeds",
            "Riparian", "Firescar", "Island interior", "Acacia woodlands", "Acacia shrublands",
            "Acacia grasslands", "Short mopane", "Mixed mopane", "Exposed soils"), (75, 33, 15)),
    _scene("pavia_centre",
           _file("e/e3/Pavia.mat",
                 "b60341da323fd271cd97dd6d7a69514d385ccd7fdfc5a60c4ff5994b047f152e", 129624657),
           "pavia", _file("5/53/Pavia_gt.mat", None, None), "pavia_gt", (1096, 715, 102),
           ("Water", "Trees", "Asphalt", "Self-Blocking Bricks", "Bitumen", "Tiles", "Shadows",
            "Meadows", "Bare Soil"), (55, 41, 12)),
)}  # fmt: skip


def list_scenes() -> list[str]:
    """Return the registered scene names, sorted."""
    return sorted(_SCENES)


def get_scene_info(name: str) -> SceneInfo:
    """Return the registry record of scene ``name``.

    Raises
    ------
    ConfigError
        If ``name`` is not registered; the message lists the valid names.
    """
    if name not in _SCENES:
        raise ConfigError(f"unknown scene {name!r}; valid scenes: {', '.join(list_scenes())}")
    return _SCENES[name]


def default_palette(n: int) -> tuple[RGB, ...]:
    """Return ``n`` distinct RGB colours (0-255): matplotlib's tab20, or turbo beyond 20."""
    from matplotlib import colormaps

    cmap = colormaps["tab20"] if n <= 20 else colormaps["turbo"].resampled(n)
    return tuple(tuple(int(round(255 * c)) for c in cmap(i)[:3]) for i in range(n))  # type: ignore[misc]


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
    check_integers(gt, path, "label map")
    ids, inverse = np.unique(gt, return_inverse=True)
    if ids[0] < 0:
        raise DataError(f"{path}: label map has {np.count_nonzero(gt < 0)} negative values "
                        f"(min {ids[0]}); labels must be >= 0 with 0 = unlabelled")
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
    return cube


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
