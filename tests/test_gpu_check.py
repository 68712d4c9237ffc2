"""benchmarks/gpu_check.py: one line and exit 0 without CUDA; its checks run on the CPU."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_it_says_so_in_one_line_and_exits_0():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"gpu_check: no CUDA GPU here (torch {torch.__version__} sees none): "
                           "nothing to check\n")


def test_the_same_checks_run_on_the_cpu(data_root, monkeypatch, capsys):
    monkeypatch.setenv("SPECTRANET_DATA", str(data_root))
    assert _module().main(["--device", "cpu", "--hsi-epochs", "1", "--sound-steps", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("gpu_check on CPU, torch ")
    assert lines[1].split() == ["check", "device", "status", "seconds", "result"]
    rows = lines[2:]
    assert len(rows) == 3
    assert rows[0].startswith("cuda tests ") and "skipped" in rows[0]  # no GPU: all skip
    assert rows[1].startswith("hsi paper, seed 0, 1 epochs ")
    assert rows[2].startswith("sound paper, batch 32, ")
    assert all(r.split()[r.split().index("cpu") + 1] == "ok" for r in rows)
    oa = float(rows[1].split("OA ")[1].split(" %")[0])
    assert 5.0 < oa < 100.0  # 16 classes after one epoch: a real score, not a placeholder
    assert "windows/s; one 500-epoch round of UrbanSound8K" in rows[2]


def test_a_round_of_the_full_dataset_is_computed_from_the_rate():
    module = _module()
    # 8732 clips, 9 folds of 10 training, 11998 / 2003 windows per clip: 47,074 windows
    assert module.PAPER_TRAIN_WINDOWS == pytest.approx(47074.3, abs=0.1)
    row = module.sound_paper_throughput("cpu", 2)
    rate = float(row["result"].split(" windows/s")[0].replace(",", ""))
    hours = float(row["result"].split("UrbanSound8K ")[1].split(" h")[0])
    assert hours == pytest.approx(47074.3 * 500 / rate / 3600, rel=0.01)
