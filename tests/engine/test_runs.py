import json
import math

import numpy as np
import pytest

from spectranet.engine import runs
from spectranet.engine.runs import RunDir, atomic_write_json, save_npy


def test_atomic_json_roundtrip_and_nan_as_null(tmp_path):
    path = atomic_write_json(tmp_path / "a" / "m.json", {"x": np.float32(0.5), "y": math.nan})
    assert json.loads(path.read_text()) == {"x": 0.5, "y": None}
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "m.json"
    atomic_write_json(target, {"ok": 1})

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runs.os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_json(target, {"ok": 2})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_run_dir(tmp_path):
    run = RunDir(tmp_path / "run")
    assert not run.is_complete()
    run.log("hello")
    save_npy(run / "split.npy", np.arange(3))
    run.write_json("metrics.json", {"a": 1})
    assert run.is_complete()
    assert np.load(run / "split.npy").tolist() == [0, 1, 2]
    run.close()
    assert "hello" in (tmp_path / "run" / "run.log").read_text()


def test_files_get_the_users_umask(tmp_path):
    import os
    import stat

    from spectranet.engine.runs import atomic_write_text

    old = os.umask(0o027)
    try:
        path = atomic_write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
