"""Split files: every accepted format, one-line errors that write nothing, real runs."""

import json
import re

import h5py
import numpy as np
import pytest
import scipy.io
import tifffile
from scipy import ndimage

from spectranet.cli import main
from spectranet.errors import DataError, DataNotFoundError
from spectranet.hsi.split_files import load_split_file, read_split_maps, save_split_file
from spectranet.hsi.splits import Split

SHAPE = (24, 24)


@pytest.fixture
def user_scene(tmp_path):
    """The user-cube scene of test_pipeline: ids 3 (rows 2-11) and 7 (rows 13-21), and maps of a
    split by columns: training 0-9, test 12-23 (columns 10-11 unused)."""
    g = np.random.default_rng(0)
    gt = np.zeros(SHAPE, np.int64)
    gt[2:12, 2:22] = 3
    gt[13:22, 2:22] = 7
    cube = g.normal(size=(*SHAPE, 16)).astype(np.float32)
    cube[gt == 3] += 2.0
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)
    cols = np.arange(SHAPE[1])[None, :]
    maps = {"train": np.where(cols < 10, gt, 0), "test": np.where(cols >= 12, gt, 0)}
    return tmp_path, gt, maps


def _labels(gt):
    return np.select([gt == 3, gt == 7], [0, 1], -1)


def _write_mat73(path, arrays):
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array.T)  # MATLAB's column-major layout
    with path.open("r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file".ljust(116))


def _writers(maps, gt):
    """Every format, each writing the same training / test maps (and a validation map)."""
    train, test = maps["train"], maps["test"]
    val = np.where(np.arange(SHAPE[1])[None, :] == 2, gt, 0)  # the first labelled column
    train_only = np.where(val > 0, 0, train)
    codes = (train_only > 0) * 1 + (test > 0) * 2 + (val > 0) * 3
    stack = np.stack([train_only, test, val]).astype(np.int16)
    return {
        "split.npz": lambda p: np.savez(p, train=train_only, test=test, val=val),
        "named.mat": lambda p: scipy.io.savemat(p, {"TR": train_only, "TE": test, "VA": val,
                                                    "cube": np.zeros((*SHAPE, 3))}),
        "named73.mat": lambda p: _write_mat73(p, {"Train_GT": train_only, "test_gt": test,
                                                  "validation": val}),
        "codes.npy": lambda p: np.save(p, codes.astype(np.uint8)),
        "codes.tif": lambda p: tifffile.imwrite(p, codes.astype(np.uint8)),
        "stack.tif": lambda p: tifffile.imwrite(p, stack, photometric="minisblack"),  # 3 pages
        "stack_last.npy": lambda p: np.save(p, stack.transpose(1, 2, 0)),
        "single.mat": lambda p: scipy.io.savemat(p, {"split_codes": codes.astype(np.uint8)}),
    }


FORMATS = ["split.npz", "named.mat", "named73.mat", "codes.npy", "codes.tif", "stack.tif",
           "stack_last.npy", "single.mat"]


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_gives_the_same_split(user_scene, name):
    folder, gt, maps = user_scene
    path = folder / name
    _writers(maps, gt)[name](path)
    with pytest.warns(UserWarning, match="38 of 190 test pixels lie inside a training or "
                                         "validation patch at window 9"):  # columns 12 and 13
        split = load_split_file(path, _labels(gt), [3, 7], window=9, seed=0)
    flat = gt.ravel()
    cols = np.arange(gt.size) % SHAPE[1]
    assert split.val.tolist() == np.flatnonzero((flat > 0) & (cols == 2)).tolist()
    assert split.train.tolist() == np.flatnonzero((flat > 0) & (cols > 2) & (cols < 10)).tolist()
    assert split.test.tolist() == np.flatnonzero((flat > 0) & (cols >= 12)).tolist()
    assert split.info["files"] == [str(path)] and split.info["validation"] == "file"


def test_two_files_training_then_test(user_scene):
    folder, gt, maps = user_scene
    tifffile.imwrite(folder / "train.tif", maps["train"].astype(np.uint16))
    np.save(folder / "test.npy", maps["test"])
    with pytest.warns(UserWarning, match=r"train.tif \+ .*test.npy: 38 of 190 test pixels"):
        split = load_split_file([folder / "train.tif", folder / "test.npy"], _labels(gt),
                                [3, 7], window=9, seed=0, val_fraction=0.2)
    assert sorted([*split.train, *split.val]) == np.flatnonzero(maps["train"]).tolist()
    assert split.test.tolist() == np.flatnonzero(maps["test"]).tolist()
    assert split.info["validation"] == "drawn"
    assert split.val.size == 16 + 14  # floor(0.2 * 80) of id 3, floor(0.2 * 72) of id 7


def test_a_run_split_saved_as_a_split_file_reads_back_identical(user_scene):
    folder, gt, _ = user_scene
    from spectranet.hsi.disjoint import disjoint_split

    labels = _labels(gt)
    split = disjoint_split(labels, window=5, seed=3)
    save_split_file(folder / "saved.npz", split, labels, [3, 7])
    with np.load(folder / "saved.npz") as saved:
        assert set(saved.files) == {"train", "val", "test"}
        assert set(np.unique(saved["train"])) == {0, 3, 7}
    back = load_split_file(folder / "saved.npz", labels, [3, 7], window=5, seed=0)
    for name in ("train", "val", "test"):
        assert getattr(back, name).tolist() == getattr(split, name).tolist()
    assert back.info["leakage_free"] is True  # the disjoint split's buffer was kept out


def _train(folder, *args):
    return main(["hsi", "train", "--cube", str(folder / "cube.npy"), "--gt",
                 str(folder / "gt.npy"), "--preset", "quick", "--window", "9", "--components",
                 "16", "--epochs", "2", "--out", str(folder / "run"), "--no-progress", *args])


@pytest.mark.parametrize(("write", "message"), [
    (lambda m: np.savez("f.npz", train=m["train"][:, :20], test=m["test"]),
     r"f.npz: the train map has shape \(24, 20\), the scene's is \(24, 24\) \(rows, cols\)"),
    (lambda m: np.savez("f.npz", train=m["train"], test=m["test"] + m["train"]),
     r"f.npz: 152 pixels are in both the train and the test map \(first at row 2, col 2\)"),
    (lambda m: np.savez("f.npz", train=np.where(m["train"] == 7, 9, m["train"]), test=m["test"]),
     r"f.npz: the train map holds class ids \[9\] that the scene does not have \(its ids: "
     r"\[3, 7\]\)"),
    (lambda m: np.savez("f.npz", train=np.where(m["train"] == 7, 3, m["train"]), test=m["test"]),
     r"f.npz: 72 pixels of the train map disagree with the scene's ground truth \(first at row "
     r"13, col 2: 3 in the file, 7 in the ground truth"),
    (lambda m: np.savez("f.npz", train=m["train"], test=0 * m["test"]),
     "f.npz: the test set is empty"),
    (lambda m: np.savez("f.npz", train=m["train"], labels=m["test"]),
     r"f.npz: no test map \(arrays present: train \(24, 24\), labels \(24, 24\)\); name them"),
    (lambda m: np.save("f.npy", m["train"]), r"f.npy: a single 2-D map holds set codes .*got "
                                              r"values \[7\]"),
    (lambda m: np.save("f.npy", np.stack([m["train"]] * 4)), r"f.npy: expected a map of set "
                                                            r"codes \(24, 24\) or 2-3 label maps"),
    (lambda m: np.savez("f.npz", train=m["train"] + 0.5, test=m["test"]),
     "f.npz: the train map must hold integers, 576 values are not"),
    (lambda m: tifffile.imwrite("f.tif", np.stack([m["train"], m["test"] - 1]).astype(np.int16)),
     r"f.tif: the test map has \d+ negative values"),
    (lambda m: open("f.tif", "wb").write(b"II*\0broken"), "f.tif: not a readable TIFF file"),
])
def test_bad_split_file_is_a_one_line_error_and_nothing_is_written(user_scene, monkeypatch,
                                                                   capsys, write, message):
    folder, _, maps = user_scene
    monkeypatch.chdir(folder)
    write(maps)
    name = next(p.name for p in folder.iterdir() if p.name.startswith("f."))
    code = _train(folder, "--split-file", name)
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("error: ") and "\n" not in err
    assert re.search(message, err), err
    assert not (folder / "run").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--split-file", "missing.npz"], "error: missing.npz: no such split file"),
    (["--split-file", "a.npz", "--protocol", "disjoint"], "error: give either protocol "
                                                         "'disjoint' or a split_file, not both"),
    (["--split-buffer"], "error: split_buffer needs a split_file"),
    (["--split-file", "a", "--split-file", "b", "--split-file", "c"],
     "error: split_file must be a path, or two paths"),
])
def test_bad_split_options(user_scene, monkeypatch, capsys, args, message):
    folder, _, _ = user_scene
    monkeypatch.chdir(folder)
    assert _train(folder, *args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err
    assert not (folder / "run").exists()


def test_read_split_maps_errors(user_scene):
    folder, _, maps = user_scene
    with pytest.raises(DataNotFoundError, match="nope.npz: no such split file"):
        read_split_maps(folder / "nope.npz", SHAPE)
    np.save(folder / "a.npy", maps["train"])
    with pytest.raises(DataError, match="a split is one file or two"):
        read_split_maps([folder / "a.npy"] * 3, SHAPE)
    np.savez(folder / "two.npz", train=maps["train"], TR=maps["train"], test=maps["test"])
    with pytest.raises(DataError, match="two.npz: several train maps: train, TR"):
        read_split_maps(folder / "two.npz", SHAPE)


def test_leaking_split_file_is_reported_in_terminal_metrics_and_report(user_scene, monkeypatch,
                                                                       capsys):
    """Training columns 0-9, test 12-23, window 9: test columns 12 and 13 lie within 4 pixels
    of training column 9 or 8, so 2 columns x 19 labelled rows = 38 test pixels leak."""
    folder, gt, maps = user_scene
    np.savez(folder / "split.npz", **maps)
    assert _train(folder, "--split-file", str(folder / "split.npz"), "--seeds", "0", "1") == 0
    out, err = capsys.readouterr()
    assert (f"warning: {folder / 'split.npz'}: 38 of 190 test pixels lie inside a training or "
            "validation patch at window 9") in err
    run = folder / "run"
    report = (run / "report.md").read_text()
    metrics = json.loads((run / "metrics.json").read_text())
    for seed, seed_metrics in zip((0, 1), metrics["seeds"], strict=True):
        split = Split.from_dict(json.loads((run / f"seed_{seed}" / "split.json").read_text()))
        train, val, test = split.masks(SHAPE)
        square = np.ones((9, 9), bool)
        expected = {"test_in_train": int((test & ndimage.binary_dilation(train, square)).sum()),
                    "test_in_val": int((test & ndimage.binary_dilation(val, square)).sum())}
        assert expected["test_in_train"] > 0 and expected["test_in_val"] > 0
        leak = seed_metrics["leakage"]
        assert {k: leak[k] for k in expected} == expected and leak["test"] == 190
        assert seed_metrics["preprocessing_fit"] == "cube"
        assert seed_metrics["split_info"]["test_in_patches_before_buffer"] == 38
        assert (f"| {seed} | {leak['test_in_train']:,} of 190 "
                f"({leak['test_in_train'] / 190:.1%}) | {leak['test_in_val']:,} |") in report
        assert (f"leakage, seed {seed}: {leak['test_in_train']:,} of 190 test pixels inside a "
                "training patch") in out
        assert (run / f"seed_{seed}" / "figures" / "regions.png").is_file()
        assert f"![regions, seed {seed}](seed_{seed}/figures/regions.png)" in report
    assert "PCA and scaling fitted on every pixel of the cube" in report
    assert "protocol `split file`" in report and "38 test pixels lie inside training" in report


def test_real_run_on_indian_pines_with_a_split_file_from_a_disjoint_split(data_root, tmp_path,
                                                                          monkeypatch, capsys):
    """A disjoint split at window 7 written as a split file, run at window 9 with the buffer:
    the buffer drops exactly the training pixels within 4 pixels of a test pixel."""
    from spectranet.hsi.datasets import load_scene
    from spectranet.hsi.disjoint import disjoint_split

    scene = load_scene("indian_pines", root=data_root)
    split = disjoint_split(scene.labels, window=7, seed=0)
    ids = np.asarray(scene.class_ids)[scene.labels]
    train_map = np.zeros(scene.labels.size, np.int64)
    test_map = np.zeros(scene.labels.size, np.int64)
    for m, indices in ((train_map, np.concatenate([split.train, split.val])),
                       (test_map, split.test)):
        m[indices] = ids.ravel()[indices]
    np.savez(tmp_path / "ip_split.npz", train=train_map.reshape(145, 145),
             test=test_map.reshape(145, 145))
    near = ndimage.binary_dilation(test_map.reshape(145, 145) > 0, np.ones((9, 9), bool))
    expected_drop = int((near & (train_map.reshape(145, 145) > 0)).sum())
    assert expected_drop > 0  # window 7's buffer is narrower than window 9's patch

    out = tmp_path / "run"
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    code = main(["hsi", "train", "--scene", "indian_pines",
                 "--preset", "quick", "--epochs", "2", "--window", "9", "--seeds", "0",
                 "--split-file", str(tmp_path / "ip_split.npz"), "--split-buffer", "--out",
                 str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    seed = json.loads((out / "seed_0" / "metrics.json").read_text())
    leak = seed["leakage"]
    assert (leak["test_in_train"], leak["test_in_val"], leak["test"]) == (0, 0, split.test.size)
    assert seed["split_info"]["buffer_dropped"] == {"train": expected_drop, "val": 0}
    assert seed["split_sizes"]["train"] + seed["split_sizes"]["val"] == (
        split.train.size + split.val.size - expected_drop)
    assert seed["preprocessing_fit"] == "train"
    report = (out / "report.md").read_text()
    assert "## Leakage check" in report
    assert "PCA and scaling fitted on training pixels only" in report
    assert f"| 0 | 0 of {split.test.size:,} (0.0%) | 0 |" in report
    assert f"buffer at window 9: {expected_drop:,} pixels dropped" in report
    assert (out / "seed_0" / "figures" / "regions.png").is_file()
    assert "![regions, seed 0](seed_0/figures/regions.png)" in report
