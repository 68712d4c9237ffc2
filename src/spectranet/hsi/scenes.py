"""The registry of public hyperspectral scenes, as data.

A :class:`SceneInfo` record holds everything about a public benchmark scene: files, ``.mat``
variables, original class ids and names, preview bands, palette, official EHU/GIC addresses and
canonical sha256.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spectranet.datahome import RemoteFile
from spectranet.errors import ConfigError

__all__ = ["SceneInfo", "list_scenes", "get_scene_info", "default_palette"]

RGB = tuple[int, int, int]


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
