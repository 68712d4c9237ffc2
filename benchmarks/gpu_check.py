"""The prepared GPU check: the CUDA tests, a paper-preset HSI run and the sound paper throughput.

Run it on a machine with a CUDA GPU (under 8 minutes on one modern GPU)::

    SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/gpu_check.py

It prints a short table:

- ``cuda tests``: ``pytest -m cuda tests/test_cuda.py`` (bf16 steps with channels-last, a fit
  interrupted and resumed from its checkpoint, a map of an Indian Pines crop predicted on the
  GPU equal to the CPU's), passed or failed;
- ``hsi paper``: ``hsi train --preset paper`` on Indian Pines, seed 0, ``--hsi-epochs`` (50,
  the paper's) on the device: seconds and test overall accuracy;
- ``sound paper``: training throughput of the sound ``paper`` preset's network (windows/s, its
  batch of 32, its precision, random windows already on the device: the model's steps only), and
  the hours one 500-epoch round over every training window of the full UrbanSound8K would take
  at that rate (computed, not measured).

Without CUDA it prints one line saying so and exits 0. ``--device cpu`` runs the same checks on
the CPU (the tests run it so, with one epoch and a few steps), so that nothing but the device
differs on a GPU. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
#: Training windows of one round of the full UrbanSound8K with the paper's features (9 of 10
#: folds), as benchmarks/bench_standard_recipe.py counts them: 11,998 windows for 2,003 clips
#: here, scaled to 8,732 clips.
PAPER_TRAIN_WINDOWS = 8732 * 0.9 * 11998 / 2003
PAPER_EPOCHS = 500


def cuda_tests(device: str) -> dict[str, Any]:
    """``pytest -m cuda tests/test_cuda.py`` in a fresh process; its status and last line."""
    tic = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p",
                           "no:cacheprovider", str(REPO / "tests" / "test_cuda.py")],
                          cwd=REPO, capture_output=True, text=True)
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    # on a GPU, tests that all skip (no data, CUDA unseen by the child) are no check at all
    ok = done.returncode == 0 and (device == "cpu" or " passed" in last)
    return {"check": "cuda tests", "ok": ok, "seconds": time.perf_counter() - tic,
            "result": last, "device": device}


def hsi_paper(device: str, epochs: int, out: Path, root: Path | None = None) -> dict[str, Any]:
    """``hsi train --preset paper`` on Indian Pines, seed 0, ``epochs`` epochs on ``device``."""
    from spectranet.config import make_config
    from spectranet.hsi.pipeline import train

    config = make_config("hsi", "paper", scene="indian_pines", seeds=[0], epochs=epochs,
                         device=device)
    tic = time.perf_counter()
    metrics = train(config, out, root=root, progress=False)
    oa = metrics["overall_accuracy"]
    return {"check": f"hsi paper, seed 0, {epochs} epochs", "ok": bool(np.isfinite(oa)),
            "seconds": time.perf_counter() - tic, "result": f"OA {100 * oa:.2f} %",
            "device": device}


def sound_paper_throughput(device: str, steps: int) -> dict[str, Any]:
    """Windows/s of the sound paper preset's training steps, and one full round's hours."""
    from spectranet.audio.models import build_model
    from spectranet.audio.pipeline import model_options
    from spectranet.config import make_config
    from spectranet.engine.optim import make_optimizer
    from spectranet.engine.precision import resolve_precision
    from spectranet.engine.training import seed_everything, train_one_epoch

    config = make_config("audio", "paper", device=device)
    precision = resolve_precision(config.precision)
    seed_everything(0)
    model = build_model(config.arch, 10, **model_options(config)).to(device)
    optimizer = make_optimizer(model.parameters(), name=config.optimizer, lr=config.lr,
                               momentum=config.momentum, nesterov=config.nesterov)
    g = torch.Generator().manual_seed(0)
    shape = (config.batch_size, 2, config.n_mels, config.frames)
    batch = {"x": torch.randn(shape, generator=g).to(device),
             "y": torch.randint(0, 10, (config.batch_size,), generator=g).to(device),
             "id": torch.arange(config.batch_size, device=device)}

    def run(n: int) -> float:
        tic = time.perf_counter()
        train_one_epoch(model, [batch] * n, optimizer, device=device, precision=precision)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - tic

    run(max(1, steps // 10))  # warm-up: kernels chosen, allocator filled
    rate = steps * config.batch_size / run(steps)
    hours = PAPER_TRAIN_WINDOWS * PAPER_EPOCHS / rate / 3600
    return {"check": f"sound paper, batch {config.batch_size}, {precision}", "ok": rate > 0,
            "seconds": steps * config.batch_size / rate,
            "result": f"{rate:,.0f} windows/s; one 500-epoch round of UrbanSound8K "
                      f"{hours:.1f} h (computed)", "device": device}


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a fixed-width text table."""
    lines = [f"{'check':<36} {'device':<8} {'status':<6} {'seconds':>8}  result"]
    for r in rows:
        status = "ok" if r["ok"] else "FAILED"
        lines.append(f"{r['check']:<36} {r['device']:<8} {status:<6} {r['seconds']:>8.1f}  "
                     f"{r['result']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the checks and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--hsi-epochs", type=int, default=50)
    parser.add_argument("--sound-steps", type=int, default=300,
                        help="timed training steps of the sound paper network (default 300)")
    parser.add_argument("--skip-tests", action="store_true", help="no pytest -m cuda")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"gpu_check: no CUDA GPU here (torch {torch.__version__} sees none): "
              "nothing to check")
        return 0
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"gpu_check on {name}, torch {torch.__version__}", flush=True)
    rows = [] if args.skip_tests else [cuda_tests(args.device)]
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(hsi_paper(args.device, args.hsi_epochs, Path(tmp) / "hsi"))
    rows.append(sound_paper_throughput(args.device, args.sound_steps))
    print(table(rows))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
