"""Errors a user can cause: one ``error:`` line naming the file and the problem, exit 1."""

import json

import h5py
import numpy as np
import pytest
import scipy.io

from spectranet.cli import main


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("command", [["hsi", "evaluate"], ["audio", "evaluate"],
                                     ["audio", "predict"], ["export"]])
def test_run_folder_errors(command, tmp_path, capsys):
    extra = [str(tmp_path / "x.wav")] if command == ["audio", "predict"] else []
    assert main([*command, str(tmp_path / "missing"), *extra]) == 1
    assert "missing: no such run folder" in _one_error_line(capsys)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    assert main([*command, str(broken), *extra]) == 1
    assert "broken/config.json: not valid JSON (Expecting property name" in _one_error_line(capsys)


def test_a_run_of_the_other_domain_is_named(tmp_path, capsys):
    hsi_run = tmp_path / "hsi_run"
    hsi_run.mkdir()
    (hsi_run / "config.json").write_text(json.dumps({"config": {}, "scene": {}}))
    assert main(["audio", "evaluate", str(hsi_run)]) == 1
    assert "hsi_run: a hyperspectral run, not a sound one" in _one_error_line(capsys)


def _gt(tmp_path):
    np.save(tmp_path / "gt.npy", np.ones((20, 20), np.int64))
    return str(tmp_path / "gt.npy")


def test_damaged_matlab_files(tmp_path, capsys):
    with h5py.File(tmp_path / "v73.mat", "w", userblock_size=512) as f:
        f["cube"] = np.random.default_rng(0).random((20, 20, 30))
    data = (tmp_path / "v73.mat").read_bytes()
    (tmp_path / "cut.mat").write_bytes(data[: len(data) // 2])
    scipy.io.savemat(tmp_path / "v5.mat", {"cube": np.random.default_rng(0).random((30, 30, 20))},
                     do_compression=True)
    data = (tmp_path / "v5.mat").read_bytes()
    (tmp_path / "flip.mat").write_bytes(data[:3000] + bytes(b ^ 0xFF for b in data[3000:3100])
                                        + data[3100:])
    gt = _gt(tmp_path)
    for name, message in [("cut.mat", "damaged MATLAB v7.3 (HDF5) file"),
                          ("flip.mat", "not a readable MATLAB file (Error -3 while decompress")]:
        out = tmp_path / f"run_{name}"
        assert main(["hsi", "train", "--cube", str(tmp_path / name), "--gt", gt, "--out",
                     str(out)]) == 1
        err = _one_error_line(capsys)
        assert f"{name}: {message}" in err and "spectranet data verify" in err
        assert not out.exists()
