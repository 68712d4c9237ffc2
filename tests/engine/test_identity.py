"""Run identity: output-folder checks and data fingerprints, through the hyperspectral pipeline."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from spectranet.cli import main
from spectranet.engine import identity
from spectranet.engine.identity import check_out_dir, fingerprint_files, fingerprint_records
from spectranet.errors import ConfigError


def _user_scene(folder, labels=(3, 7)):
    g = np.random.default_rng(0)
    gt = np.zeros((20, 20), np.int64)
    gt[2:10, 2:18], gt[11:19, 2:18] = labels
    cube = g.normal(size=(20, 20, 8)).astype(np.float32) + (gt == labels[0])[..., None]
    np.save(folder / "cube.npy", cube)
    np.save(folder / "gt.npy", gt)


def _train(folder, out):
    return main(["hsi", "train", "--cube", str(folder / "cube.npy"), "--gt",
                 str(folder / "gt.npy"), "--preset", "quick", "--window", "5", "--model",
                 "conv2d", "--components", "4", "--epochs", "1", "--out", str(out),
                 "--no-progress"])


def test_changed_data_under_the_same_path_is_not_a_finished_run(tmp_path, capsys):
    _user_scene(tmp_path)
    out = tmp_path / "run"
    assert _train(tmp_path, out) == 0
    finished = (out / "metrics.json").read_bytes()
    assert _train(tmp_path, out) == 0  # the same data: the finished run is returned
    _user_scene(tmp_path, labels=(7, 3))  # relabelled under the same file names
    capsys.readouterr()
    assert _train(tmp_path, out) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: the input data changed since this run was written")
    assert err.count("\n") == 1
    assert (out / "metrics.json").read_bytes() == finished


def test_a_folder_of_other_files_is_never_written_into(tmp_path, capsys):
    _user_scene(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.json").write_text('{"my": "numbers"}')
    assert _train(tmp_path, mine) == 1
    assert ("mine: folder holds files (metrics.json) that spectranet did not write (no "
            ".spectranet.json)") in capsys.readouterr().err
    assert json.loads((mine / "metrics.json").read_text()) == {"my": "numbers"}
    assert sorted(p.name for p in mine.iterdir()) == ["metrics.json"]


def test_out_dir_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        check_out_dir(tmp_path / "file", marker="config.json")
    with pytest.raises(ConfigError, match="is a file, so the folder cannot be created"):
        check_out_dir(tmp_path / "file" / "run", marker="config.json")
    assert check_out_dir(tmp_path / "new" / "run", marker="config.json") == tmp_path / "new/run"
    assert not (tmp_path / "new").exists()  # a check writes nothing


def test_fingerprints_follow_content_not_names(tmp_path):
    (tmp_path / "a").write_bytes(b"12345")
    (tmp_path / "b").write_bytes(b"12345")
    assert fingerprint_files([tmp_path / "a"]) == fingerprint_files([tmp_path / "b"])
    (tmp_path / "b").write_bytes(b"12346")
    assert fingerprint_files([tmp_path / "a"]) != fingerprint_files([tmp_path / "b"])
    rows = [("x.wav", 10, "dog", 1), ("y.wav", 12, "siren", 2)]
    assert fingerprint_records(rows) == fingerprint_records(list(rows))
    assert fingerprint_records(rows) != fingerprint_records([rows[0], ("y.wav", 12, "dog", 2)])


def test_a_failed_start_does_not_block_the_corrected_command(tmp_path, capsys):
    _user_scene(tmp_path)
    out = tmp_path / "run"
    args = ["hsi", "train", "--cube", str(tmp_path / "cube.npy"), "--gt", str(tmp_path / "gt.npy"),
            "--preset", "quick", "--window", "5", "--model", "conv2d", "--epochs", "1",
            "--out", str(out), "--no-progress"]
    assert main([*args, "--components", "12"]) == 1  # the cube has 8 bands
    assert "components must be <= the cube's 8 bands" in capsys.readouterr().err
    assert not out.exists()
    assert main([*args, "--components", "4"]) == 0


def test_a_spec_that_shrinks_the_window_to_nothing_is_refused_before_writing():
    from spectranet.audio.models import build_model, check_window_fits

    spec = " + ".join(["Cov1"] + ["Max-pooling"] * 7)
    with pytest.raises(ConfigError, match=r"does not fit a 2 x 64 x 41 window: its pooling"):
        check_window_fits(build_model(spec, 10), spec, 64, 41)
    check_window_fits(build_model("Cov1 + Cov2 + DilaCov1(2)", 10), "ok", 64, 41)


def test_a_run_records_its_domain_and_read_run_uses_it(tmp_path):
    from spectranet.engine.identity import read_run
    from spectranet.errors import DataError

    _user_scene(tmp_path)
    assert _train(tmp_path, tmp_path / "run") == 0
    saved, domain = read_run(tmp_path / "run", expect="hsi")
    assert saved["domain"] == domain == "hsi"
    with pytest.raises(DataError, match="a hyperspectral run, not a sound one"):
        read_run(tmp_path / "run", expect="audio")


def test_fingerprints_are_remembered_only_for_settled_files(tmp_path, monkeypatch):
    reads = []
    real_open = Path.open

    def counting_open(self, *args, **kwargs):
        reads.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    fresh, settled = tmp_path / "fresh", tmp_path / "settled"
    fresh.write_bytes(b"12345")
    settled.write_bytes(b"12345")
    reads.clear()
    first = fingerprint_files([fresh])
    fresh.write_bytes(b"12346")  # same size, likely the same timestamp tick
    reads.clear()
    assert fingerprint_files([fresh]) != first  # a just-written file is hashed again
    assert reads == ["fresh"]
    monkeypatch.setattr(identity, "_SETTLED_NS", -1)  # everything counts as settled
    reads.clear()
    digest = fingerprint_files([settled])
    assert fingerprint_files([settled]) == digest
    assert reads == ["settled"]  # the second call reused the first
    settled.write_bytes(b"12346")  # rewritten in place, same size
    later = settled.stat().st_mtime_ns + 5_000_000  # as if written in a later timestamp tick
    os.utime(settled, ns=(later, later))
    reads.clear()
    assert fingerprint_files([settled]) != digest
    assert reads == ["settled"]
