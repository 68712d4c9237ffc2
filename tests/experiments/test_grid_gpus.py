"""``--jobs N --device cuda``: each pool worker trains on its own GPU (fake device lists on CPU)."""

import json
import os
import time
from pathlib import Path

import pytest

from spectranet.cli import main
from spectranet.engine.runs import atomic_write_json
from spectranet.errors import ConfigError
from spectranet.experiments.grid import GridRun, run_grid, worker_gpus


def record_gpu(config, folder, root):
    """Runner: note this worker's GPU and pid, then wait until the other run has started too."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "gpu.json", {"gpu": os.environ.get("CUDA_VISIBLE_DEVICES"),
                                            "pid": os.getpid()})
    deadline = time.monotonic() + 120
    while len(list(folder.parent.glob("*/gpu.json"))) < config["wait_for"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the other run never started: the runs were not concurrent")
        time.sleep(0.05)
    metrics = {"overall_accuracy": 1.0}
    atomic_write_json(folder / "metrics.json", metrics)
    return metrics


def _runs(n, device="cuda"):
    return [GridRun(f"r{i}", "hsi", {"name": f"r{i}", "device": device, "wait_for": n})
            for i in range(n)]


def test_two_jobs_on_cuda_train_on_two_different_gpus(tmp_path, monkeypatch):
    # the spawned workers import this module to find record_gpu: the repository root must be
    # on their path (they inherit the parent's), which pytest's entry point does not put there
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    rows = run_grid(_runs(2), tmp_path, jobs=2, threads=1, runner=record_gpu, gpus=["3", "5"])
    assert [r["status"] for r in rows] == ["done", "done"]
    seen = [json.loads((tmp_path / "runs" / f"r{i}" / "gpu.json").read_text()) for i in (0, 1)]
    assert seen[0]["pid"] != seen[1]["pid"]
    assert sorted(s["gpu"] for s in seen) == ["3", "5"]
    assert "GPUs 3,5" in (tmp_path / "grid.log").read_text()


def test_cpu_runs_get_no_gpu(tmp_path):
    assert worker_gpus(_runs(2, "cpu"), 2, gpus=["0"]) is None
    assert worker_gpus(_runs(2), 1, gpus=[]) is None  # one job: in this process, as before
    assert worker_gpus(_runs(3), 3, gpus=["0", "1"], share_gpus=True) == ["0", "1", "0"]


def test_more_jobs_than_gpus_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ConfigError, match="--jobs 3 with --device cuda needs 3 GPUs"):
        run_grid(_runs(3), tmp_path / "out", jobs=3, runner=record_gpu, gpus=["0", "1"])
    assert not (tmp_path / "out").exists()


def test_several_jobs_on_one_pinned_gpu_need_share_gpus(tmp_path):
    with pytest.raises(ConfigError, match="--device cuda:1 puts every run on one GPU"):
        worker_gpus(_runs(2, "cuda:1"), 2, gpus=["0", "1"])
    assert worker_gpus(_runs(2, "cuda:1"), 2, gpus=["0", "1"], share_gpus=True) is None


def test_cli_refuses_cuda_jobs_on_a_machine_without_cuda(tmp_path, data_root, monkeypatch,
                                                         capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    assert main(["experiment", "ahmad2020", "table3", "--jobs", "2", "--device", "cuda",
                 "--out", str(tmp_path / "g")]) == 1
    assert capsys.readouterr().err == (
        f"error: device 'cuda' is not available: torch {torch.__version__} sees no CUDA GPU "
        "here; use --device cpu\n")
    assert not (tmp_path / "g").exists()
