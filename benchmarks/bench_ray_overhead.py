"""The Ray backend's overhead: one grid of short runs, local process pool vs Ray tasks.

Issue 27: the same grid of ``--runs`` (6) real Indian Pines runs (``quick`` preset, seed i for
run i, ``--epochs`` each), trained once with ``run_grid(backend="local", jobs=J)`` and once with
``run_grid(backend="ray")`` on a local Ray of J CPUs (``cpus_per_run=1``), the same torch threads
per run (1), each into a fresh folder. Printed: each backend's wall time (Ray's includes starting
and stopping the local Ray), the ratio ray / local (target at most 1.15x for runs of a minute or
more), and whether both grids gave the same overall accuracies (they must).

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_ray_overhead.py``
(``--epochs 50`` gives runs of about a minute on one core of this machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_root, machine_summary

from spectranet.config import make_config
from spectranet.experiments.grid import GridRun, run_grid


def grid(n: int, epochs: int) -> list[GridRun]:
    """``n`` runs of the quick preset on Indian Pines, seeds 0..n-1."""
    return [GridRun(f"s{i}", "hsi", make_config("hsi", "quick", scene="indian_pines",
                                                  epochs=epochs, seeds=[i]), {"seed": i})
            for i in range(n)]


def main() -> None:
    """Time both backends on the same grid and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, both backends")
    args = parser.parse_args()
    import ray

    print(machine_summary())
    runs, root = grid(args.runs, args.epochs), data_root()
    with tempfile.TemporaryDirectory() as tmp:
        tic = time.perf_counter()
        local = run_grid(runs, Path(tmp) / "local", jobs=args.jobs, threads=1, root=root)
        local_s = time.perf_counter() - tic
        tic = time.perf_counter()
        ray.init(num_cpus=args.jobs, include_dashboard=False, log_to_driver=False)
        try:
            on_ray = run_grid(runs, Path(tmp) / "ray", backend="ray", cpus_per_run=1,
                              threads=1, root=root)
        finally:
            ray.shutdown()
        ray_s = time.perf_counter() - tic
    same = [r["overall_accuracy"] for r in local] == [r["overall_accuracy"] for r in on_ray]
    per_run = local_s * args.jobs / args.runs
    ratio = ray_s / local_s
    print(f"grid of {args.runs} runs x {args.epochs} epochs, {args.jobs} at once "
          f"(~{per_run:.0f} s per run): local {local_s:.1f} s, ray {ray_s:.1f} s, "
          f"ratio {ratio:.2f}x (target <= 1.15x for runs of a minute or more: "
          f"{'met' if ratio <= 1.15 else 'MISSED'}); same accuracies: {same}")


if __name__ == "__main__":
    main()
