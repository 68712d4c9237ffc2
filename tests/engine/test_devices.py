"""One GPU per pool worker: the round-robin assignment, on fake device lists."""

import os
import subprocess
import sys

import pytest

from spectranet.config import HSIConfig
from spectranet.engine.devices import assign_gpus, run_device, visible_gpus
from spectranet.errors import ConfigError


def test_each_worker_gets_its_own_gpu_round_robin():
    assert assign_gpus(1, ["0", "1"]) == ["0"]
    assert assign_gpus(2, ["0", "1"]) == ["0", "1"]
    assert assign_gpus(2, ["3", "5", "7"]) == ["3", "5"]  # CUDA_VISIBLE_DEVICES=3,5,7
    assert assign_gpus(2, ["GPU-aa", "GPU-bb"]) == ["GPU-aa", "GPU-bb"]  # UUIDs pass through


def test_more_jobs_than_gpus_is_refused_unless_shared():
    with pytest.raises(ConfigError, match=r"--jobs 3 with --device cuda needs 3 GPUs .* 2 visible"
                                          r".*--jobs 2, or --share-gpus"):
        assign_gpus(3, ["0", "1"])
    assert assign_gpus(5, ["0", "1"], share=True) == ["0", "1", "0", "1", "0"]


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_bad_jobs_are_refused(jobs):
    with pytest.raises(ConfigError, match="jobs must be an integer >= 1"):
        assign_gpus(jobs, ["0"])


def test_no_gpu_is_refused_even_when_shared():
    with pytest.raises(ConfigError, match="'cuda' is not available: no CUDA GPU is visible"):
        assign_gpus(2, [], share=True)


def test_run_device_reads_dataclasses_and_mappings():
    assert run_device(HSIConfig(scene="indian_pines", device="cuda")) == "cuda"
    assert run_device(HSIConfig(scene="indian_pines")) == "cpu"
    assert run_device({"device": "cuda:1"}) == "cuda:1"
    assert run_device({"name": "a"}) == "cpu"


def test_visible_gpus_is_empty_without_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the fake-list tests cover the assignment")
    assert visible_gpus() == []


def test_use_gpu_narrows_cuda_visible_devices_in_a_fresh_process():
    code = ("import os; from spectranet.engine.devices import use_gpu; use_gpu('1'); "
            "print(os.environ['CUDA_VISIBLE_DEVICES'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": "0,1"})
    assert out.stdout.strip() == "1"
