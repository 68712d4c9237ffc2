import hashlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from spectranet.datahome import sha256sum
from spectranet.errors import ConfigError, DataError, DataNotFoundError
from spectranet.hsi.datasets import (
    Scene,
    get_scene_info,
    list_scenes,
    load_cube,
    load_scene,
    read_array,
    read_labels,
)

SCENES = list_scenes()


@pytest.fixture
def cube(rng) -> np.ndarray:
    return rng.integers(-9, 8000, size=(6, 5, 4)).astype(np.int16)


@pytest.fixture
def gt() -> np.ndarray:
    gt = np.zeros((6, 5), dtype=np.uint8)
    gt[0, :3] = 2
    gt[2, 1:4] = 7
    gt[5, 4] = 3
    return gt


# ---------------------------------------------------------------------------------- registry
def test_scene_names():
    assert SCENES == sorted(
        [
            "indian_pines",
            "pavia_university",
            "salinas",
            "salinas_a",
            "ksc",
            "botswana",
            "pavia_centre",
        ]
    )


@pytest.mark.parametrize("name", SCENES)
def test_registry_record_is_consistent(name):
    info = get_scene_info(name)
    k = len(info.class_ids)
    assert info.name == name and k > 0
    assert len(info.class_names) == len(info.palette) == k
    assert list(info.class_ids) == sorted(set(info.class_ids)) and info.class_ids[0] >= 1
    assert len(set(info.class_names)) == k
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in info.palette)
    assert len(info.rgb_bands) == 3 and all(0 <= b < info.shape[2] for b in info.rgb_bands)
    for remote, var in ((info.cube, info.cube_variable), (info.gt, info.gt_variable)):
        assert var and remote.filename.endswith(".mat")
        # EHU is a MediaWiki: uploads/<h>/<hh>/<file>, hh = md5(file name)[:2]
        h = hashlib.md5(remote.filename.encode()).hexdigest()
        assert (
            remote.url == f"https://www.ehu.eus/ccwintco/uploads/{h[0]}/{h[:2]}/{remote.filename}"
        )
        assert remote.sha256 is None or (len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0)


def test_unknown_scene_lists_valid_names():
    with pytest.raises(ConfigError, match="unknown scene 'paviau'.*pavia_university"):
        get_scene_info("paviau")


def test_salinas_a_keeps_salinas_ids_and_names():
    sal, sub = get_scene_info("salinas"), get_scene_info("salinas_a")
    assert sub.class_ids == (1, 10, 11, 12, 13, 14)
    assert sub.class_names == tuple(sal.class_names[i - 1] for i in sub.class_ids)
    assert sub.palette == tuple(sal.palette[i - 1] for i in sub.class_ids)
    assert sub.shape == (83, 86, 204)


# ----------------------------------------------------------------------------------- readers
def test_read_mat_v5(tmp_path, cube, gt):
    path = tmp_path / "scene.mat"
    scipy.io.savemat(path, {"cube": cube, "labels": gt})
    np.testing.assert_array_equal(read_array(path, "cube"), cube)
    np.testing.assert_array_equal(read_array(path, ndim=3), cube)  # the single 3-D array
    np.testing.assert_array_equal(read_array(path, ndim=2), gt)


def _write_mat73(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as MATLAB v7.3 does: HDF5 behind a 512-byte header, column-major."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array.T)  # MATLAB layout: axes reversed
            f[name].attrs["MATLAB_class"] = np.bytes_(str(array.dtype))
    with path.open("r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116))


def test_read_mat_v73(tmp_path, cube, gt):
    path = tmp_path / "scene73.mat"
    _write_mat73(path, {"cube": cube, "gt": gt})
    got = read_array(path, "cube")
    assert got.shape == cube.shape
    np.testing.assert_array_equal(got, cube)
    np.testing.assert_array_equal(read_array(path, ndim=2), gt)


def test_read_npy_npz(tmp_path, cube, gt):
    np.save(tmp_path / "c.npy", cube)
    np.testing.assert_array_equal(read_array(tmp_path / "c.npy"), cube)
    np.savez(tmp_path / "one.npz", anything=cube)
    np.testing.assert_array_equal(read_array(tmp_path / "one.npz"), cube)
    np.savez(tmp_path / "two.npz", c=cube, g=gt)
    np.testing.assert_array_equal(read_array(tmp_path / "two.npz", "g"), gt)
    np.testing.assert_array_equal(read_array(tmp_path / "two.npz", ndim=3), cube)


def test_read_tiff_pages_and_samples(tmp_path, gt):
    import tifffile

    stack = np.stack([gt, 2 * gt, 3 * gt]).astype(np.int16)
    tifffile.imwrite(tmp_path / "one.tif", gt)
    tifffile.imwrite(tmp_path / "stack.tiff", stack, photometric="minisblack")  # three pages
    tifffile.imwrite(tmp_path / "appended.tif", stack[0])
    tifffile.imwrite(tmp_path / "appended.tif", stack[1], append=True)  # two series
    tifffile.imwrite(tmp_path / "rgb.tif", stack.transpose(1, 2, 0).astype(np.uint8),
                     photometric="rgb")  # pixel-interleaved samples
    np.testing.assert_array_equal(read_array(tmp_path / "one.tif"), gt)
    np.testing.assert_array_equal(read_array(tmp_path / "stack.tiff"), stack)
    np.testing.assert_array_equal(read_array(tmp_path / "appended.tif"), stack[:2])
    np.testing.assert_array_equal(read_array(tmp_path / "rgb.tif"), stack.transpose(1, 2, 0))
    tifffile.imwrite(tmp_path / "mixed.tif", gt)
    tifffile.imwrite(tmp_path / "mixed.tif", gt[:3], append=True)
    with pytest.raises(DataError, match=r"mixed.tif: a TIFF file of several images must "
                                        r"hold 2-D images of one size, got shapes "
                                        r"\[\(6, 5\), \(3, 5\)\]"):
        read_array(tmp_path / "mixed.tif")


def test_list_arrays(tmp_path, cube, gt):
    from spectranet.hsi.readers import list_arrays

    scipy.io.savemat(tmp_path / "s.mat", {"cube": cube, "labels": gt})
    assert list_arrays(tmp_path / "s.mat") == {"cube": (6, 5, 4), "labels": (6, 5)}
    _write_mat73(tmp_path / "s73.mat", {"cube": cube, "TR": gt})
    assert list_arrays(tmp_path / "s73.mat") == {"TR": (6, 5), "cube": (6, 5, 4)}
    np.savez(tmp_path / "s.npz", train=gt, test=gt[:2])
    assert list_arrays(tmp_path / "s.npz") == {"train": (6, 5), "test": (2, 5)}
    np.save(tmp_path / "g.npy", gt)
    with pytest.raises(DataError, match=r"g.npy: only .mat and .npz files hold named arrays"):
        list_arrays(tmp_path / "g.npy")
    (tmp_path / "bad.npz").write_bytes(b"PK\3\4 broken")
    with pytest.raises(DataError, match=r"bad.npz: not a readable .npz file"):
        list_arrays(tmp_path / "bad.npz")
    with pytest.raises(DataNotFoundError, match="absent.mat: no such file"):
        list_arrays(tmp_path / "absent.mat")


def _write_envi(
    stem: Path,
    cube: np.ndarray,
    interleave: str,
    byteorder: str,
    offset: int = 0,
    suffix: str = ".img",
) -> Path:
    order = {"bsq": (2, 0, 1), "bil": (0, 2, 1), "bip": (0, 1, 2)}[interleave]
    data = np.ascontiguousarray(cube.transpose(order)).astype(cube.dtype.newbyteorder(byteorder))
    binary = stem.with_suffix(suffix)
    binary.write_bytes(b"\0" * offset + data.tobytes())
    rows, cols, bands = cube.shape
    stem.with_suffix(".hdr").write_text(
        f"ENVI\ndescription = {{\n  test cube,\n  two lines}}\nsamples = {cols}\nlines = {rows}\n"
        f"bands = {bands}\nheader offset = {offset}\nfile type = ENVI Standard\n"
        f"data type = 2\ninterleave = {interleave}\nbyte order = {int(byteorder == '>')}\n"
        "band names = {b1,\n b2, b3,\n b4}\n"
    )
    return binary


@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_read_envi(tmp_path, cube, interleave, byteorder):
    binary = _write_envi(tmp_path / "cube", cube, interleave, byteorder, offset=16)
    for path in (binary, tmp_path / "cube.hdr"):
        got = read_array(path)
        assert got.dtype == np.int16 and got.dtype.isnative
        np.testing.assert_array_equal(got, cube)


def test_read_envi_binary_without_suffix(tmp_path, cube):
    _write_envi(tmp_path / "raw", cube, "bip", "<", suffix="")
    np.testing.assert_array_equal(read_array(tmp_path / "raw.hdr"), cube)


# ---------------------------------------------------------------------------- reader errors
def test_reader_errors(tmp_path, cube, gt):
    with pytest.raises(DataNotFoundError, match="absent.mat: no such file"):
        read_array(tmp_path / "absent.mat")
    scipy.io.savemat(tmp_path / "s.mat", {"cube": cube, "labels": gt})
    with pytest.raises(DataNotFoundError, match=r"s.mat: no variable 'paviaU'; .*cube \(6, 5, 4\)"):
        read_array(tmp_path / "s.mat", "paviaU")
    with pytest.raises(DataError, match="cannot choose an array among: .*cube.*labels"):
        read_array(tmp_path / "s.mat")
    _write_mat73(tmp_path / "s73.mat", {"cube": cube})
    with pytest.raises(DataNotFoundError, match="s73.mat: no variable 'x'; variables present"):
        read_array(tmp_path / "s73.mat", "x")
    (tmp_path / "c.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(DataError, match=r"c.jpg: unknown file type '.jpg'"):
        read_array(tmp_path / "c.jpg")
    (tmp_path / "c.tif").write_bytes(b"II*\0")
    with pytest.raises(DataError, match=r"c.tif: not a readable TIFF file"):
        read_array(tmp_path / "c.tif")
    (tmp_path / "bad.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(DataError, match="bad.mat: not a readable MATLAB file"):
        read_array(tmp_path / "bad.mat")


def test_envi_errors(tmp_path, cube):
    _write_envi(tmp_path / "c", cube, "bsq", "<")
    hdr = tmp_path / "c.hdr"
    text = hdr.read_text()
    hdr.write_text(text.replace("interleave = bsq", "interleave = bxx"))
    with pytest.raises(DataError, match="interleave must be bsq, bil or bip, got 'bxx'"):
        read_array(hdr)
    hdr.write_text(text.replace("lines = 6", "lines = 60"))
    with pytest.raises(DataError, match="ENVI data too short"):
        read_array(hdr)
    hdr.write_text(text.replace("data type = 2", "data type = 6"))
    with pytest.raises(DataError, match="unsupported ENVI data type 6"):
        read_array(hdr)
    (tmp_path / "c.img").unlink()
    with pytest.raises(DataNotFoundError, match="no ENVI binary file"):
        read_array(hdr)


# ------------------------------------------------------------------------------ load_cube
def test_load_cube_user_files(tmp_path, cube, gt):
    np.save(tmp_path / "field.npy", cube)
    scipy.io.savemat(tmp_path / "gt.mat", {"truth": gt})
    scene = load_cube(tmp_path / "field.npy", tmp_path / "gt.mat")
    assert isinstance(scene, Scene) and scene.name == "field"
    assert scene.cube.dtype == np.float32 and scene.cube.shape == (6, 5, 4)
    np.testing.assert_array_equal(scene.cube, cube.astype(np.float32))
    assert scene.labels.dtype == np.int64
    assert scene.class_ids == (2, 3, 7)
    assert scene.class_names == ("class 2", "class 3", "class 7")
    expected = np.full(gt.shape, -1)
    for k, cid in enumerate(scene.class_ids):
        expected[gt == cid] = k
    np.testing.assert_array_equal(scene.labels, expected)
    assert len(scene.palette) == 3 and len(set(scene.palette)) == 3
    assert all(0 <= b < 4 for b in scene.rgb_bands)
    assert scene.source == {"cube": str(tmp_path / "field.npy"), "gt": str(tmp_path / "gt.mat")}
    named = load_cube(
        tmp_path / "field.npy",
        tmp_path / "gt.mat",
        name="f",
        class_names=["a", "b", "c"],
        rgb_bands=[3, 2, 1],
    )
    assert named.class_names == ("a", "b", "c") and named.rgb_bands == (3, 2, 1)


def test_load_cube_float_labels_and_trailing_axis(tmp_path, cube, gt):
    np.save(tmp_path / "c.npy", cube)
    np.save(tmp_path / "g.npy", gt.astype(np.float64)[:, :, None])
    assert load_cube(tmp_path / "c.npy", tmp_path / "g.npy").class_ids == (2, 3, 7)


@pytest.mark.parametrize(
    ("cube_fn", "gt_fn", "err", "match"),
    [
        (lambda c: c[:, :, 0], None, DataError, r"c.npy: cube must be 3-D .*got shape \(6, 5\)"),
        (None, lambda g: g[None], DataError, r"g.npy: label map must be 2-D .*\(1, 6, 5\)"),
        (
            lambda c: c[:5],
            None,
            DataError,
            r"c.npy has shape \(5, 5, 4\) but label map .*g.npy has shape \(6, 5\)",
        ),
        (
            lambda c: np.where(np.arange(4) == 1, np.nan, c),
            None,
            DataError,
            "c.npy: cube has 30 NaN/inf values",
        ),
        (None, lambda g: np.zeros_like(g), DataError, "g.npy: no labelled pixel"),
        (None, lambda g: g.astype(np.int8) - 3, DataError, "g.npy: label map has .* negative"),
        (None, lambda g: g + 0.5, DataError, "g.npy: label map must hold integers, 30 values"),
    ],
    ids=["cube-2d", "gt-3d", "shape-mismatch", "nan", "no-labels", "negative", "non-integer"],
)
def test_load_cube_bad_inputs(tmp_path, cube, gt, cube_fn, gt_fn, err, match):
    np.save(tmp_path / "c.npy", cube_fn(cube) if cube_fn else cube)
    np.save(tmp_path / "g.npy", gt_fn(gt) if gt_fn else gt)
    with pytest.raises(err, match=match):
        load_cube(tmp_path / "c.npy", tmp_path / "g.npy")


def test_load_cube_bad_options(tmp_path, cube, gt):
    np.save(tmp_path / "c.npy", cube)
    np.save(tmp_path / "g.npy", gt)
    with pytest.raises(ConfigError, match=r"class_names has 2 entries but .*g.npy has 3 classes"):
        load_cube(tmp_path / "c.npy", tmp_path / "g.npy", class_names=["a", "b"])
    with pytest.raises(ConfigError, match=r"rgb_bands must lie in \[0, 4\)"):
        load_cube(tmp_path / "c.npy", tmp_path / "g.npy", rgb_bands=[0, 1, 4])
    with pytest.raises(DataNotFoundError, match="missing.npy: no such file"):
        load_cube(tmp_path / "missing.npy", tmp_path / "g.npy")


# ------------------------------------------------------------------------------ load_scene
def _fake_salinas_a(root: Path, rng: np.random.Generator, gt: np.ndarray) -> None:
    info = get_scene_info("salinas_a")
    folder = root / "hsi" / info.folder
    folder.mkdir(parents=True)
    cube = rng.integers(-9, 8373, size=info.shape).astype(np.int16)
    scipy.io.savemat(folder / info.cube.filename, {info.cube_variable: cube})
    scipy.io.savemat(folder / info.gt.filename, {info.gt_variable: gt})


def test_salinas_a_maps_noncontiguous_ids(tmp_path, rng):
    gt = rng.choice(np.array([0, 1, 10, 11, 12, 13, 14], dtype=np.uint8), size=(83, 86))
    _fake_salinas_a(tmp_path, rng, gt)
    scene = load_scene("salinas_a", tmp_path)
    assert scene.cube.shape == (83, 86, 204) and scene.cube.min() < 0
    assert scene.class_ids == (1, 10, 11, 12, 13, 14)
    assert scene.class_names[0] == "Brocoli_green_weeds_1"
    assert scene.class_names[1:] == (
        "Corn_senesced_green_weeds",
        "Lettuce_romaine_4wk",
        "Lettuce_romaine_5wk",
        "Lettuce_romaine_6wk",
        "Lettuce_romaine_7wk",
    )
    assert set(np.unique(scene.labels)) == {-1, 0, 1, 2, 3, 4, 5}
    for k, cid in enumerate(scene.class_ids):
        np.testing.assert_array_equal(scene.labels == k, gt == cid)
    np.testing.assert_array_equal(scene.labels == -1, gt == 0)


def test_registered_scene_rejects_unknown_ids(tmp_path, rng):
    gt = np.zeros((83, 86), dtype=np.uint8)
    gt[0, :4] = [1, 10, 2, 16]
    _fake_salinas_a(tmp_path, rng, gt)
    with pytest.raises(DataError, match=r"label ids \[2, 16\] are not among the class ids"):
        load_scene("salinas_a", tmp_path)


def test_load_scene_missing_files(tmp_path):
    with pytest.raises(
        DataNotFoundError,
        match=r"PaviaU.mat is missing: `spectranet data download pavia_university`",
    ):
        load_scene("pavia_university", tmp_path)
    with pytest.raises(ConfigError, match="unknown scene"):
        load_scene("pavia", tmp_path)


# ------------------------------------------------------------------------------- real data
INDIAN_PINES_COUNTS = {
    1: 46,
    2: 1428,
    3: 830,
    4: 237,
    5: 483,
    6: 730,
    7: 28,
    8: 478,
    9: 20,
    10: 972,
    11: 2455,
    12: 593,
    13: 205,
    14: 1265,
    15: 386,
    16: 93,
}


def test_real_indian_pines(data_root):
    scene = load_scene("indian_pines", data_root)
    assert scene.cube.shape == (145, 145, 200) and scene.cube.dtype == np.float32
    assert scene.n_classes == 16 and np.count_nonzero(scene.labels >= 0) == 10249
    counts = np.bincount(scene.labels[scene.labels >= 0], minlength=16)
    assert dict(zip(scene.class_ids, counts.tolist(), strict=True)) == INDIAN_PINES_COUNTS
    assert scene.cube.min() == 955 and scene.cube.max() == 9604  # SOURCES.md
    info = get_scene_info("indian_pines")
    for remote in info.files:
        assert sha256sum(data_root / "hsi" / info.folder / remote.filename) == remote.sha256


@pytest.mark.parametrize(
    ("name", "n_classes", "n_labelled"),
    [
        ("pavia_university", 9, 42776),
        ("salinas", 16, 54129),
        ("ksc", 13, 5211),
        ("botswana", 14, 3248),
        ("pavia_centre", 9, 148152),
    ],
)
def test_real_gt_only_scenes(data_root, name, n_classes, n_labelled):
    info = get_scene_info(name)
    labels, ids = read_labels(
        data_root / "hsi" / info.folder / info.gt.filename,
        info.gt_variable,
        class_ids=info.class_ids,
    )
    assert labels.shape == info.shape[:2]
    assert ids == info.class_ids and len(ids) == n_classes
    assert np.count_nonzero(labels >= 0) == n_labelled
    assert set(np.unique(labels)) == set(range(-1, n_classes))
    with pytest.raises(DataNotFoundError, match=f"spectranet data download {name}"):
        load_scene(name, data_root)


def test_class_names_by_id_or_by_line(tmp_path):
    from spectranet.hsi.readers import read_class_names

    path = tmp_path / "names.txt"
    path.write_text("# ids as in the label map\n10 wheat field\n3 corn\n")
    assert read_class_names(path, (3, 10)) == ("corn", "wheat field")
    path.write_text("corn\nwheat\n\n")
    assert read_class_names(path, (3, 10)) == ("corn", "wheat")


@pytest.mark.parametrize(("text", "message"), [
    ("corn\n", r"1 names for 2 classes \(label map ids: \[3, 10\]\)"),
    ("3 corn\n11 wheat\n", r"ids \[11\] are not in the label map"),
    ("3 corn\n", r"ids \[10\] have no name"),
    ("corn\ncorn\n", "class names must be distinct"),
])
def test_bad_class_names_are_refused(tmp_path, text, message):
    from spectranet.errors import DataError
    from spectranet.hsi.readers import read_class_names

    (tmp_path / "names.txt").write_text(text)
    with pytest.raises(DataError, match=message):
        read_class_names(tmp_path / "names.txt", (3, 10))
