"""Shared helpers of the benchmarks: interleaved timing, machine description, printing.

The machine these benchmarks run on is shared (2 cores, other jobs come and go), so absolute
figures drift from run to run. Ratios stay meaningful because the reference and our path are
timed *interleaved* in the same process: every round runs each candidate once, in a rotating
order, and a candidate's figure is the median of its rounds. A burst of load then hits both sides
of a ratio instead of one.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from spectranet.experiments.grid import usable_cpus

__all__ = [
    "Rates",
    "data_root",
    "interleaved_rates",
    "machine_summary",
    "print_comparison",
    "set_threads",
]

#: Candidate name -> median rate (units per second) over the rounds.
Rates = dict[str, float]


def set_threads(threads: int | None = None) -> int:
    """Fix torch's intra-op thread count (default: every core torch sees) and return it.

    Parameters
    ----------
    threads : int >= 1, optional
        Threads for torch's CPU kernels; default: the CPUs this process may use.

    Returns
    -------
    int
        The thread count in effect.
    """
    n = int(threads or usable_cpus())
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    torch.set_num_threads(n)
    return torch.get_num_threads()


def add_threads_option(parser: Any) -> None:
    """Add ``--threads`` (default 1; 0 = every core) to an argparse parser."""
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: stable per-core figures on a shared "
                             "machine; 0 = all cores)")


def start(threads: int) -> None:
    """Apply ``--threads`` and print the machine summary line every benchmark starts with."""
    set_threads(threads or None)
    print(machine_summary())


def data_root() -> Path:
    """``$SPECTRANET_DATA`` as a path; exits with a message when it is unset."""
    root = os.environ.get("SPECTRANET_DATA")
    if not root:
        sys.exit("set SPECTRANET_DATA to the data folder, "
                 "e.g. export SPECTRANET_DATA=../shared/data")
    return Path(root)


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            text = fh.read()
    except OSError:
        return "unknown"
    wanted = ("avx512_bf16", "amx_bf16", "amx_tile", "avx512f", "avx2")
    return ",".join(f for f in wanted if f" {f}" in text) or "none of avx2/avx512/amx"


def machine_summary() -> str:
    """One line: torch version, threads, CPU capability, bf16-related CPU flags, load average."""
    try:
        load = f"load average {os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover - not on Linux
        load = "load average unknown"
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # pragma: no cover - older torch
        capability = "?"
    return (
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} cores, {platform.machine()}, capability {capability}, "
        f"flags {_cpu_flags()}, {load}"
    )


def interleaved_rates(
    candidates: Mapping[str, Callable[[], int]],
    *,
    rounds: int = 5,
    warmup: int = 1,
    min_seconds: float = 0.0,
    statistic: str = "median",
) -> Rates:
    """Time several candidates interleaved and return each one's median rate.

    Parameters
    ----------
    candidates : mapping of str to callable
        Name -> a callable doing one unit of work and returning how many items it processed
        (samples, pixels...).
    rounds : int >= 1, default 5
        Timed rounds; each runs every candidate once, the order rotating between rounds.
    warmup : int >= 0, default 1
        Untimed calls of each candidate first (allocator, oneDNN primitive caches).
    min_seconds : float >= 0, default 0.0
        Within a round, repeat a candidate until it has run at least this long.
    statistic : {"median", "max"}, default "median"
        How the per-round rates are summarised. "max" (the best round) estimates the speed on
        an idle machine, since other jobs can only slow a round down.

    Returns
    -------
    dict of str to float
        Name -> ``statistic`` of its per-round rates, items per second.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if statistic not in ("median", "max"):
        raise ValueError(f"statistic must be 'median' or 'max', got {statistic!r}")
    summary = statistics.median if statistic == "median" else max
    names = list(candidates)
    for name in names:
        for _ in range(warmup):
            candidates[name]()
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            items, tic = 0, time.perf_counter()
            while True:
                items += candidates[name]()
                elapsed = time.perf_counter() - tic
                if elapsed >= min_seconds:
                    break
            rates[name].append(items / elapsed)
    return {name: summary(values) for name, values in rates.items()}


def print_comparison(
    title: str,
    reference: float,
    ours: float,
    *,
    unit: str = "samples/s",
    target: float | None = None,
) -> float:
    """Print one benchmark line: reference, ours and the ratio; return the ratio.

    Parameters
    ----------
    title : str
    reference, ours : float > 0
        Rates in ``unit``.
    unit : str, default "samples/s"
    target : float, optional
        Ratio the issue asks for; printed with a pass/miss mark.
    """
    ratio = ours / reference
    goal = ""
    if target is not None:
        goal = f"  (target >= {target:g}x: {'met' if ratio >= target else 'MISSED'})"
    print(f"{title:<44} reference {reference:>10,.0f}  ours {ours:>10,.0f} {unit}  "
          f"ratio {ratio:5.2f}x{goal}")
    return ratio
