"""kill -9 at a random moment of a small run, then the same command again: the final metrics
equal those of a run that was never interrupted (both domains)."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

TIMING = {"train_seconds", "test_seconds", "map_seconds", "map_pixels_per_second", "seconds"}


def _without_timing(obj):
    if isinstance(obj, dict):
        return {k: _without_timing(v) for k, v in obj.items() if k not in TIMING}
    if isinstance(obj, list):
        return [_without_timing(v) for v in obj]
    return obj


def _command(args, env):
    return subprocess.run([sys.executable, "-m", "spectranet", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def _killed_then_resumed(args, out: Path, env, rng: random.Random, started: str) -> None:
    """Start the run, kill -9 it a random moment after ``started`` appears, run it again."""
    proc = subprocess.Popen([sys.executable, "-m", "spectranet", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not any(out.rglob(started)) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 1.5))
    assert proc.poll() is None, "the run finished before it could be killed: make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "metrics.json").exists()
    result = _command(args, env)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def env(tmp_path):
    return os.environ | {"SPECTRANET_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}


def test_hsi_run_killed_and_rerun_equals_uninterrupted(tmp_path, env):
    g = np.random.default_rng(0)
    gt = np.repeat(np.arange(1, 5), 400).reshape(40, 40)
    cube = g.normal(size=(40, 40, 10)).astype(np.float32) + gt[..., None] * 0.3
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)

    def args(out):
        return ["hsi", "train", "--cube", str(tmp_path / "cube.npy"), "--gt",
                str(tmp_path / "gt.npy"), "--preset", "quick", "--model", "conv2d", "--window",
                "7", "--components", "6", "--epochs", "30", "--batch-size", "16", "--seeds", "0",
                "1", "--out", str(out), "--no-progress"]

    assert _command(args(tmp_path / "whole"), env).returncode == 0
    _killed_then_resumed(args(tmp_path / "killed"), tmp_path / "killed", env,
                         random.Random(), "checkpoint.pt")
    whole, killed = (json.loads((tmp_path / d / "metrics.json").read_text())
                     for d in ("whole", "killed"))
    assert _without_timing(killed) == _without_timing(whole)


def test_sound_run_killed_and_rerun_equals_uninterrupted(tmp_path, env, us8k_folder):
    folder = us8k_folder(tmp_path / "clips", {1: 3, 2: 3, 3: 3})

    def args(out):
        return ["audio", "train", "--dataset", str(folder), "--preset", "quick", "--folds", "3",
                "--filters", "8,8,16,16", "--epochs", "12", "--batch-size", "16",
                "--validation", "fold", "--out", str(out), "--no-progress"]

    assert _command(args(tmp_path / "whole"), env).returncode == 0  # also fills the cache
    _killed_then_resumed(args(tmp_path / "killed"), tmp_path / "killed", env,
                         random.Random(), "checkpoint.pt")
    whole, killed = (json.loads((tmp_path / d / "metrics.json").read_text())
                     for d in ("whole", "killed"))
    assert _without_timing(killed) == _without_timing(whole)
