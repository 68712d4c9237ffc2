"""Experiment grids: named, independent runs in one output folder, resumable and parallel.

A grid is a list of :class:`GridRun` (name, domain, configuration, tags). Run ``name`` lives in
``OUT/runs/<name>/`` and is finished when its ``metrics.json`` exists (the pipelines write it
last), so a rerun skips finished runs and finishes the others (an interrupted pipeline run
resumes from its own checkpoints). ``jobs > 1`` runs several at once in a process pool (spawned
processes, ``usable CPUs // jobs`` torch threads each; ``taskset`` limits the usable CPUs).
``reuse`` names other grid folders: an unfinished run whose domain and configuration equal a
finished run there is copied in instead of trained again (experiments share models, e.g. Chen et
al.'s rate-2 models are Experiment 1's dilated ones); ``reused.json`` in the copy says where it
came from. A run that raises is recorded in ``OUT/runs/<name>/error.json`` and in the results,
and does not stop the others; a missing dataset counts as *skipped* with its reason. Results go
to ``OUT/results.csv`` and ``OUT/results.json`` after every run. A published copy of a grid
folder (report, ``results.json``, tables and figures, no ``runs/``) is recognised by
:func:`published_results`, so its report can be rendered again without training.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectranet.engine.devices import assign_gpus, run_device, use_gpu, visible_gpus
from spectranet.engine.identity import config_as_json, same_config
from spectranet.engine.runs import atomic_write_json, read_json
from spectranet.engine.workers import exit_with_parent
from spectranet.errors import ConfigError, DataNotFoundError
from spectranet.experiments.gridruns import (
    NAME_CHARACTERS,
    GridPlan,
    GridRun,
    copy_reused,
    data_fingerprint,
    find_reusable,
    is_finished,
    run_dir,
)
from spectranet.experiments.raygrid import BACKENDS, check_backend, ray_session
from spectranet.experiments.results import collect_results, published_results, summarise_metrics

__all__ = ["GridRun", "RUNNERS", "run_grid", "collect_results", "summarise_metrics",
           "run_dir", "is_finished", "data_fingerprint", "find_reusable", "usable_cpus",
           "validate_grid", "published_results", "worker_gpus", "start_worker", "execute_run",
           "BACKENDS"]



def _train_hsi(config: Any, out: Path, root: str | Path | None) -> dict[str, Any]:
    from spectranet.hsi.pipeline import train

    return train(config, out, root=root, progress=True)  # lines only, see run_lines


def _train_audio(config: Any, out: Path, root: str | Path | None) -> dict[str, Any]:
    from spectranet.audio.pipeline import train

    return train(config, out, root=root, progress=True)


def _train_mfcc(config: Any, out: Path, root: str | Path | None) -> dict[str, Any]:
    from spectranet.audio.baseline import train

    return train(config, out, root=root)


#: Domain -> ``runner(config, run_folder, root) -> metrics dict``; the library's train functions.
RUNNERS: dict[str, Callable[[Any, Path, str | Path | None], dict[str, Any]]] = {
    "hsi": _train_hsi,
    "audio": _train_audio,
    "mfcc": _train_mfcc,
}


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. set by ``taskset``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_gpus(runs: Sequence[GridRun], jobs: int, *, share_gpus: bool = False,
                gpus: Sequence[str] | None = None) -> list[str] | None:
    """The GPU each of ``jobs`` pool workers gets; None when they need no GPU of their own.

    Runs on ``"cuda"`` with ``jobs > 1`` spread over ``gpus`` (default: the visible ones) round
    robin, one worker per GPU (see :func:`~spectranet.engine.devices.assign_gpus`). Runs pinned
    to one GPU (``"cuda:1"``) with ``jobs > 1`` all share it, which ``share_gpus`` must allow.

    Raises
    ------
    ConfigError
        No GPU visible, more jobs than GPUs, or several jobs on one pinned GPU, without
        ``share_gpus``.
    """
    cuda = sorted({d for d in map(run_device, (r.config for r in runs)) if d.startswith("cuda")})
    if jobs <= 1 or not cuda:
        return None
    if cuda != ["cuda"]:
        if share_gpus:
            return None
        raise ConfigError(f"--jobs {jobs} with --device {cuda[0]} puts every run on one GPU; use "
                          "--device cuda to give each run its own GPU, or --share-gpus")
    return assign_gpus(jobs, visible_gpus() if gpus is None else gpus, share=share_gpus)


def validate_grid(runs: Sequence[GridRun], out: str | Path, *, jobs: int = 1,
                  reuse: Sequence[str | Path] = (), share_gpus: bool = False,
                  gpus: Sequence[str] | None = None, backend: str = "local",
                  cpus_per_run: float = 1, gpus_per_run: float = 0, retries: int = 2) -> None:
    """Raise :class:`ConfigError` for what :func:`run_grid` would refuse, without doing any work.

    Bad ``jobs``, bad or duplicate run names, an unknown domain, ``out`` holding a run of the
    same name with another configuration, a ``reuse`` folder that is not a grid, CUDA runs
    with more jobs than GPUs (see :func:`worker_gpus`), an unknown backend, bad per-run
    resources, or ``backend="ray"`` without Ray installed (the message names the command).
    """
    out = Path(out)
    check_backend(backend, jobs, cpus_per_run, gpus_per_run, retries)
    for other in map(Path, reuse):
        if not (other / "grid.json").is_file():
            raise ConfigError(f"{other}: not a grid folder (no grid.json) to reuse runs from")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
    seen: set[str] = set()
    for run in runs:
        if not run.name or set(run.name) - NAME_CHARACTERS:
            raise ConfigError("run name must use letters, digits, '_', '-' or '.', "
                              f"got {run.name!r}")
        if run.name in seen:
            raise ConfigError(f"run names must be unique, got {run.name!r} twice")
        seen.add(run.name)
        if run.domain not in RUNNERS:
            raise ConfigError(f"domain must be one of {sorted(RUNNERS)}, got {run.domain!r} "
                              f"(run {run.name!r})")
    if backend == "local":
        worker_gpus(runs, jobs, share_gpus=share_gpus, gpus=gpus)
    elif gpus_per_run == 0 and any(run_device(r.config).startswith("cuda") for r in runs):
        raise ConfigError("--device cuda with --backend ray needs --gpus-per-run (e.g. 1): Ray "
                          "hides every GPU from a task that asks for none")
    if (out / "grid.json").is_file():
        previous = {r["name"]: r["config"] for r in read_json(out / "grid.json")["runs"]}
        for run in runs:
            if run.name in previous and not same_config(previous[run.name], run.config):
                raise ConfigError(f"{out} holds run {run.name!r} with another configuration; "
                                  "use a new --out")


def execute_run(run: GridRun, folder: Path, root: str | Path | None, threads: int,
                runner: Callable[..., dict[str, Any]] | None, progress: bool) -> dict[str, Any]:
    """Train one run (in this process or a pool worker); never raises an ``Exception``.

    Its progress (one line per epoch, resumption) goes to standard error prefixed with the
    run's name when ``progress``, else nowhere.
    """
    import torch

    from spectranet.engine.progress import run_lines

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    tic = time.perf_counter()
    try:
        fn = runner if runner is not None else RUNNERS[run.domain]
        with run_lines(run.name, enabled=progress):
            fn(run.config, folder, root)
        (folder / "error.json").unlink(missing_ok=True)
        return {"status": "done", "error": "", "seconds": time.perf_counter() - tic}
    except Exception as exc:  # recorded, not fatal to the other runs
        status = "skipped" if isinstance(exc, DataNotFoundError) else "failed"
        error = f"{type(exc).__name__}: {exc}"
        atomic_write_json(folder / "error.json", {
            "status": status, "error": error, "traceback": traceback.format_exc(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")})
        return {"status": status, "error": error, "seconds": time.perf_counter() - tic}
    finally:
        torch.set_num_threads(before)


def start_worker(gpus: Any = None) -> None:
    """A pool worker's initializer: exit with the parent; take its own GPU from queue ``gpus``."""
    exit_with_parent()
    if gpus is not None:
        use_gpu(gpus.get())


def run_grid(runs: Sequence[GridRun], out: str | Path, *, jobs: int = 1,
             root: str | Path | None = None, threads: int | None = None,
             runner: Callable[[Any, Path, str | Path | None], dict[str, Any]] | None = None,
             log: Callable[[str], None] | None = None,
             reuse: Sequence[str | Path] = (), progress: bool = False,
             share_gpus: bool = False, gpus: Sequence[str] | None = None,
             backend: str = "local", address: str | None = None, cpus_per_run: float = 1,
             gpus_per_run: float = 0, retries: int = 2) -> list[dict[str, Any]]:
    """Run every unfinished run of a grid; collect all results.

    Parameters
    ----------
    runs : sequence of GridRun
    out : path-like
        Grid folder: ``runs/<name>/``, ``grid.json``, ``grid.log``, ``results.csv/json``.
    jobs : int >= 1, default 1
        Runs trained at once; 1 trains in this process, more in a spawned process pool.
    root : path-like, optional
        Data root (default ``$SPECTRANET_DATA``).
    threads : int >= 1, optional
        Torch threads per run (default ``max(1, usable_cpus() // jobs)``).
    runner : callable, optional
        ``runner(config, folder, root)`` used for every run instead of :data:`RUNNERS`
        (must be picklable when ``jobs > 1``); for tests and custom grids.
    log : callable, optional
        Receives one line per started/finished run (also appended to ``grid.log``).
    reuse : sequence of path-like, optional
        Other grid folders; an unfinished run with the same domain and configuration as a
        finished run there is copied from it (see :func:`find_reusable`) instead of trained.
    progress : bool, default False
        Each run's own progress (epochs, "resuming from epoch k") on standard error, one line
        per epoch prefixed with the run's name.
    share_gpus : bool, default False
        With runs on ``"cuda"`` and ``jobs > 1``, each worker gets its own GPU, and more jobs
        than GPUs is refused; True allows several workers per GPU (round robin all the same).
    gpus : sequence of str, optional
        The GPUs to spread the workers over, as ``CUDA_VISIBLE_DEVICES`` names them (default:
        the visible ones).
    backend : {"local", "ray"}, default "local"
        ``"ray"``: each run is a Ray task (see :mod:`~spectranet.experiments.raygrid`), placed
        by Ray on any node of the cluster with ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs
        free; the grid folder must be on storage every node sees at the same path. ``jobs``
        must then be 1.
    address : str, optional
        The Ray cluster's address (``HOST:6379`` or ``"auto"``); default: a local Ray started
        for this call (unless Ray is already initialised in this process).
    cpus_per_run, gpus_per_run : float, default 1 and 0
        Each Ray task's resources; ``cpus_per_run`` is also its torch thread count (rounded
        down, at least 1) unless ``threads`` is given.
    retries : int >= 0, default 2
        Ray: how many times a run whose worker process or node died is started again (it
        resumes from its checkpoints); a run that raises is not retried.

    Returns
    -------
    list of dict
        One row per run in ``runs`` order, see :func:`collect_results`.

    Raises
    ------
    ConfigError
        Before any work: bad ``jobs``, duplicate or bad run names, unknown domain, or ``out``
        holding a run of the same name with another configuration, a ``reuse`` folder
        that is not a grid, runs on CUDA with more jobs than GPUs (without ``share_gpus``),
        or, with ``backend="ray"``, Ray missing or no Ray cluster at ``address``.

    Notes
    -----
    Worker processes are *spawned*, so a script calling this with ``jobs > 1`` needs the
    ``if __name__ == "__main__":`` guard. Runs are handed out in ``runs`` order: put the longest
    first. Each process loads its own data (e.g. all sound feature windows, ~0.3 GB).
    """
    out = Path(out)
    validate_grid(runs, out, jobs=jobs, reuse=reuse, share_gpus=share_gpus, gpus=gpus,
                  backend=backend, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                  retries=retries)
    assigned = (worker_gpus(runs, jobs, share_gpus=share_gpus, gpus=gpus)
                if backend == "local" else None)
    threads = threads or _default_threads(backend, jobs, cpus_per_run)
    # Ray: connected (or refused) before anything is written; stopped after, if started here
    session = ray_session(address, progress=progress) if backend == "ray" else nullcontext()
    with session:
        out.mkdir(parents=True, exist_ok=True)
        _write_grid_json(out, runs)
        note = _grid_log(out, log)
        plan = GridPlan(out, root, custom=runner is not None)
        todo = plan.left(runs)
        sources = plan.sources(todo, reuse)
        note(f"grid: {len(runs)} runs, {len(runs) - len(todo)} finished before, "
             f"{len(todo)} to run, " + _how(backend, jobs, threads, assigned))
        copy_reused(out, todo, sources, note)
        todo = plan.left(todo)
        finish = _Finish(runs, out, note, len(todo))
        task = _Task(out, root, threads, runner, progress)
        if backend == "ray" and todo:
            from spectranet.experiments.raygrid import run_on_ray

            run_on_ray(todo, out, root=root, threads=threads, runner=runner,
                       progress=progress, cpus=cpus_per_run, gpus=gpus_per_run,
                       retries=retries, note=note, finish=finish)
        elif jobs == 1:
            _run_serial(todo, task, note, finish)
        elif todo:
            _run_pool(todo, task, note, finish, jobs=jobs, gpus=assigned)
        return collect_results(runs, out, outcome=finish.outcome)


def _default_threads(backend: str, jobs: int, cpus_per_run: float) -> int:
    """Torch threads per run: a Ray task's CPUs, or this machine's usable CPUs over ``jobs``."""
    if backend == "ray":
        return max(1, int(cpus_per_run))
    return max(1, usable_cpus() // jobs)


def _how(backend: str, jobs: int, threads: int, assigned: list[str] | None) -> str:
    """How the grid's runs are trained, for its first line in ``grid.log``."""
    return ((f"jobs {jobs}" if backend == "local" else "backend ray") + f", threads {threads}"
            + (f", GPUs {','.join(assigned)}" if assigned else ""))


def _write_grid_json(out: Path, runs: Sequence[GridRun]) -> None:
    """``grid.json``: the runs named before and not now, then ``runs``."""
    known = read_json(out / "grid.json")["runs"] if (out / "grid.json").is_file() else []
    names = {r.name for r in runs}
    known = [r for r in known if r["name"] not in names]
    atomic_write_json(out / "grid.json", {"runs": known + [
        {"name": r.name, "domain": r.domain, "tags": dict(r.tags),
         "config": config_as_json(r.config)} for r in runs]})


def _grid_log(out: Path, log: Callable[[str], None] | None) -> Callable[[str], None]:
    """``note(message)``: the message, dated, appended to ``grid.log``, and given to ``log``."""

    def note(message: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
        with open(out / "grid.log", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        if log is not None:
            log(message)

    return note


@dataclass
class _Finish:
    """The finish step: a run's outcome kept and noted, ``results.csv/json`` written again."""

    runs: Sequence[GridRun]
    out: Path
    note: Callable[[str], None]
    total: int
    outcome: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __call__(self, i: int, run: GridRun, result: dict[str, Any]) -> None:
        self.outcome[run.name] = result
        extra = f": {result['error']}" if result["error"] else ""
        self.note(f"[{i}/{self.total}] {result['status']} {run.name} in "
                  f"{result['seconds']:.0f} s{extra}")
        collect_results(self.runs, self.out, outcome=self.outcome)


@dataclass(frozen=True)
class _Task:
    """How each run trains (:func:`execute_run`'s arguments but the run and its folder)."""

    out: Path
    root: str | Path | None
    threads: int
    runner: Callable[..., dict[str, Any]] | None
    progress: bool

    def args(self, run: GridRun) -> tuple[Any, ...]:
        """:func:`execute_run`'s arguments for ``run``."""
        return run, run_dir(self.out, run.name), self.root, self.threads, self.runner, self.progress


def _run_serial(todo: Sequence[GridRun], task: _Task, note: Callable[[str], None],
                finish: _Finish) -> None:
    """Train ``todo`` one after the other in this process."""
    for i, run in enumerate(todo, 1):
        note(f"[{i}/{len(todo)}] start {run.name}")
        finish(i, run, execute_run(*task.args(run)))


def _run_pool(todo: Sequence[GridRun], task: _Task, note: Callable[[str], None],
              finish: _Finish, *, jobs: int, gpus: list[str] | None) -> None:
    """Train ``todo`` in ``jobs`` spawned worker processes, each taking one of ``gpus``."""
    context = multiprocessing.get_context("spawn")  # no forked torch/OpenMP state
    slots = None
    if gpus:  # each worker takes one entry when it starts
        slots = context.Queue()
        for gpu in gpus:
            slots.put(gpu)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                             initializer=start_worker, initargs=(slots,)) as pool:
        pending: dict[Future[dict[str, Any]], GridRun] = {}
        for run in todo:
            note(f"queued {run.name}")
            pending[pool.submit(execute_run, *task.args(run))] = run
        done = 0
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in ready:
                run = pending.pop(future)
                done += 1
                finish(done, run, _pool_result(future))


def _pool_result(future: Future[dict[str, Any]]) -> dict[str, Any]:
    """A pool run's outcome; a failure when its worker process itself died."""
    try:
        return future.result()
    except Exception as exc:  # the worker itself died
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "seconds": 0.0}


def stderr_log(message: str) -> None:
    """Print a grid progress line to standard error."""
    print(message, file=sys.stderr, flush=True)
