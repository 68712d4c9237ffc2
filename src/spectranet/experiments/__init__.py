"""The papers' experiments as resumable grids of runs, with reports beside the papers' numbers.

``spectranet experiment chen2019|ahmad2020 NAME --scale quick|paper --jobs N --out DIR`` calls
:func:`run_experiment`: it builds the grid of :mod:`~spectranet.experiments.chen2019` or
:mod:`~spectranet.experiments.ahmad2020`, trains the unfinished runs through the library
(:mod:`~spectranet.experiments.grid`) and writes ``DIR/report.md`` with ``results.csv``,
``results.json``, ``tables.json``, ``tables/*.csv`` and ``figures/*.png``. A published copy of a
finished grid folder (no ``runs/``) gets its report rendered again from ``results.json``, without
training (:func:`~spectranet.experiments.grid.published_results`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from spectranet.engine.distributed import check_device
from spectranet.errors import ConfigError, DataNotFoundError
from spectranet.experiments import ahmad2020, chen2019
from spectranet.experiments.grid import (
    GridRun,
    collect_results,
    published_results,
    run_grid,
    stderr_log,
    validate_grid,
)

__all__ = ["run_experiment", "list_experiments", "GridRun", "run_grid", "collect_results"]

_PAPERS: dict[str, ModuleType] = {"chen2019": chen2019, "ahmad2020": ahmad2020}
SCALES = ("quick", "standard", "paper")


def list_experiments() -> dict[str, dict[str, str]]:
    """Experiments per paper: ``{paper: {name: description}}``."""
    return {paper: dict(module.EXPERIMENTS) for paper, module in _PAPERS.items()}


def run_experiment(paper: str, name: str, *, scale: str = "quick", jobs: int = 1,
                   out: str | Path, root: str | Path | None = None,
                   progress: bool = True, reuse: Sequence[str | Path] = (),
                   device: str | None = None, share_gpus: bool = False,
                   backend: str = "local", address: str | None = None,
                   cpus_per_run: float = 1, gpus_per_run: float = 0, retries: int = 2) -> Path:
    """Run (or resume) one experiment of a paper and write its report.

    Parameters
    ----------
    paper : {"chen2019", "ahmad2020"}
    name : str
        One of ``list_experiments()[paper]``: ``exp1``, ``exp2``, ``exp3``, ``table4``
        (chen2019); ``table2``, ``table3``, ``figures``, ``table4`` (ahmad2020).
    scale : {"quick", "standard", "paper"}, default "quick"
        ``paper``: the papers' settings; ``standard``: the models trained with the
        ``standard`` presets (sound: ``chen2019`` only); ``quick``: a grid that finishes on a
        2-core CPU (every reduction is stated in the report).
    jobs : int >= 1, default 1
        Runs trained at once (process pool).
    out : path-like
        Grid folder; a rerun skips the finished runs and finishes the others. A published
        folder (``results.json`` with every run done, no ``runs/``) is only re-rendered.
    root : path-like, optional
        Data root (default ``$SPECTRANET_DATA``).
    progress : bool, default True
        On standard error: one line per run started, finished or reused, and each run's
        epochs (``<run>: fold 1 seed 0: epoch 3/50 ...``, ``... resuming from epoch k``).
    reuse : sequence of path-like, optional
        Folders of other experiments whose finished runs with an identical configuration are
        copied instead of retrained (e.g. ``exp1``'s dilated models in ``exp2`` and ``exp3``).
    device : {"cpu", "cuda", "cuda:<index>"}, optional
        The device of every trained network (default: the presets', ``"cpu"``); it is part of
        each run's configuration. With ``"cuda"`` and ``jobs > 1`` each worker trains on its
        own GPU (round robin over the visible ones).
    share_gpus : bool, default False
        Allow more jobs than GPUs (several runs on one GPU at once).
    backend, address, cpus_per_run, gpus_per_run, retries
        Where the runs train: ``"local"`` (``jobs`` processes here) or ``"ray"`` (each run a
        Ray task on the cluster at ``address``, default a local Ray; ``out`` on storage every
        node sees at the same path); see :func:`~spectranet.experiments.grid.run_grid`.

    Returns
    -------
    Path
        ``out/report.md``.

    Raises
    ------
    ConfigError
        Unknown paper, experiment or scale, bad ``jobs`` or ``device``, more jobs than GPUs
        without ``share_gpus``, or ``out`` holding runs of another configuration; raised before
        any run starts.
    DataNotFoundError
        No data for any run (no scene, no dataset): raised before anything is written.
    """
    if paper not in _PAPERS:
        raise ConfigError(f"paper must be one of {sorted(_PAPERS)}, got {paper!r}")
    module = _PAPERS[paper]
    if name not in module.EXPERIMENTS:
        raise ConfigError(f"experiment must be one of {sorted(module.EXPERIMENTS)} for {paper}, "
                          f"got {name!r}")
    if scale not in SCALES:
        raise ConfigError(f"scale must be one of {SCALES}, got {scale!r}")
    if device is not None:
        check_device(device)
    out = Path(out)
    runs, skipped = module.build_runs(name, scale, root=root)
    if device is not None:  # the MFCC baseline's configuration has no device
        runs = [dataclasses.replace(r, config=dataclasses.replace(r.config, device=device))
                if hasattr(r.config, "device") else r for r in runs]
    if not runs:
        reasons = "; ".join(f"{what}: {why}" for what, why in skipped) or "no data"
        raise DataNotFoundError(f"{paper} {name}: nothing to run ({reasons})")
    # before prepare's feature extraction
    resources = {"backend": backend, "cpus_per_run": cpus_per_run,
                 "gpus_per_run": gpus_per_run, "retries": retries}
    validate_grid(runs, out, jobs=jobs, reuse=reuse, share_gpus=share_gpus, **resources)
    rows = published_results(runs, out)
    if rows is None:
        module.prepare(runs, out, root)
        rows = run_grid(runs, out, jobs=jobs, root=root, log=stderr_log if progress else None,
                        reuse=reuse, progress=progress, share_gpus=share_gpus,
                        address=address, **resources)
    elif progress:
        stderr_log(f"{out}: every run is done in results.json (no run folders): report only")
    return module.write_report(name, scale, out, rows, skipped, root=root)
