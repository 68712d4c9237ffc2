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

import csv
import io
import json
import multiprocessing
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectranet.config import config_as_json, same_config
from spectranet.engine.runs import atomic_write_json, atomic_write_text, read_json
from spectranet.engine.workers import exit_with_parent
from spectranet.errors import ConfigError, DataNotFoundError

__all__ = ["GridRun", "RUNNERS", "run_grid", "collect_results", "summarise_metrics",
           "run_dir", "is_finished", "data_fingerprint", "find_reusable", "usable_cpus",
           "validate_grid", "published_results"]

_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True)
class GridRun:
    """One independent run of a grid.

    Parameters
    ----------
    name : str
        Unique within the grid; letters, digits, ``_``, ``-`` and ``.`` (a folder name).
    domain : {"hsi", "audio", "mfcc"}
        Which library function trains it (see :data:`RUNNERS`).
    config : HSIConfig, AudioConfig or BaselineConfig
    tags : mapping, optional
        Labels for tables (e.g. ``{"scene": "indian_pines", "window": 11}``); copied into the
        results rows.
    """

    name: str
    domain: str
    config: Any
    tags: Mapping[str, Any] = field(default_factory=dict)


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


def data_fingerprint(domain: str, config: Any, root: str | Path | None = None) -> str | None:
    """The fingerprint of the data a run would read now, or None when the data is missing.

    The same value the run recorded in its ``config.json`` when it started
    (see :mod:`spectranet.engine.identity`).
    """
    if domain == "hsi":
        from spectranet.hsi.pipeline import data_fingerprint as fingerprint
    elif domain == "audio":
        from spectranet.audio.pipeline import data_fingerprint as fingerprint
    else:
        from spectranet.audio.baseline import data_fingerprint as fingerprint
    try:
        return fingerprint(config, root)
    except DataNotFoundError:
        return None


def run_dir(out: str | Path, name: str) -> Path:
    """Folder of run ``name`` in grid folder ``out``: ``out/runs/<name>``."""
    return Path(out) / "runs" / name


def is_finished(out: str | Path, name: str, fingerprint: str | None = None) -> bool:
    """Whether run ``name`` of grid ``out`` finished (its ``metrics.json`` exists).

    With ``fingerprint`` (see :func:`data_fingerprint`), also whether it finished on that data:
    a run whose input changed since is not finished, and training it again reports the change.
    """
    folder = run_dir(out, name)
    if not (folder / "metrics.json").is_file():
        return False
    if fingerprint is None:
        return True
    try:
        return read_json(folder / "config.json").get("data_fingerprint") == fingerprint
    except (OSError, ValueError, AttributeError):
        return False


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. set by ``taskset``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def validate_grid(runs: Sequence[GridRun], out: str | Path, *, jobs: int = 1,
                  reuse: Sequence[str | Path] = ()) -> None:
    """Raise :class:`ConfigError` for what :func:`run_grid` would refuse, without doing any work.

    Bad ``jobs``, bad or duplicate run names, an unknown domain, ``out`` holding a run of the
    same name with another configuration, or a ``reuse`` folder that is not a grid.
    """
    out = Path(out)
    for other in map(Path, reuse):
        if not (other / "grid.json").is_file():
            raise ConfigError(f"{other}: not a grid folder (no grid.json) to reuse runs from")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
    seen: set[str] = set()
    for run in runs:
        if not run.name or set(run.name) - _NAME_OK:
            raise ConfigError("run name must use letters, digits, '_', '-' or '.', "
                              f"got {run.name!r}")
        if run.name in seen:
            raise ConfigError(f"run names must be unique, got {run.name!r} twice")
        seen.add(run.name)
        if run.domain not in RUNNERS:
            raise ConfigError(f"domain must be one of {sorted(RUNNERS)}, got {run.domain!r} "
                              f"(run {run.name!r})")
    if (out / "grid.json").is_file():
        previous = {r["name"]: r["config"] for r in read_json(out / "grid.json")["runs"]}
        for run in runs:
            if run.name in previous and not same_config(previous[run.name], run.config):
                raise ConfigError(f"{out} holds run {run.name!r} with another configuration; "
                                  "use a new --out")


def find_reusable(run: GridRun, others: Sequence[str | Path],
                  fingerprint: str | None = None) -> Path | None:
    """Folder of a finished run in grid folders ``others`` with ``run``'s domain and configuration.

    Returns the first match (in ``others`` order, then in each grid's ``grid.json`` order) that
    finished on data of ``fingerprint`` when given, or None. Folders without ``grid.json``
    raise :class:`ConfigError`: they are not grids.
    """
    for other in map(Path, others):
        if not (other / "grid.json").is_file():
            raise ConfigError(f"{other}: not a grid folder (no grid.json) to reuse runs from")
        for entry in read_json(other / "grid.json")["runs"]:
            if (entry["domain"] == run.domain and same_config(entry["config"], run.config)
                    and is_finished(other, entry["name"], fingerprint)):
                return run_dir(other, entry["name"])
    return None


def _copy_run(source: Path, folder: Path) -> None:
    """Copy a finished run folder to ``folder`` atomically (temporary sibling, then rename)."""
    tmp = folder.with_name(f".{folder.name}.reuse-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("error.json"))
    atomic_write_json(tmp / "reused.json", {"source": str(source.resolve()),
                                            "date": time.strftime("%Y-%m-%d %H:%M:%S")})
    shutil.rmtree(folder, ignore_errors=True)  # a failed or half-done attempt of this run
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(folder)


def _execute(run: GridRun, folder: Path, root: str | Path | None, threads: int,
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


def run_grid(runs: Sequence[GridRun], out: str | Path, *, jobs: int = 1,
             root: str | Path | None = None, threads: int | None = None,
             runner: Callable[[Any, Path, str | Path | None], dict[str, Any]] | None = None,
             log: Callable[[str], None] | None = None,
             reuse: Sequence[str | Path] = (), progress: bool = False) -> list[dict[str, Any]]:
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

    Returns
    -------
    list of dict
        One row per run in ``runs`` order, see :func:`collect_results`.

    Raises
    ------
    ConfigError
        Before any work: bad ``jobs``, duplicate or bad run names, unknown domain, or ``out``
        holding a run of the same name with another configuration, or a ``reuse`` folder
        that is not a grid.

    Notes
    -----
    Worker processes are *spawned*, so a script calling this with ``jobs > 1`` needs the
    ``if __name__ == "__main__":`` guard. Runs are handed out in ``runs`` order: put the longest
    first. Each process loads its own data (e.g. all sound feature windows, ~0.3 GB).
    """
    out = Path(out)
    validate_grid(runs, out, jobs=jobs, reuse=reuse)
    threads = threads or max(1, usable_cpus() // jobs)
    out.mkdir(parents=True, exist_ok=True)
    known = read_json(out / "grid.json")["runs"] if (out / "grid.json").is_file() else []
    names = {r.name for r in runs}
    known = [r for r in known if r["name"] not in names]
    atomic_write_json(out / "grid.json", {"runs": known + [
        {"name": r.name, "domain": r.domain, "tags": dict(r.tags),
         "config": config_as_json(r.config)} for r in runs]})
    fingerprints: dict[str, str | None] = {}  # configuration -> its data's fingerprint now

    def fingerprint(run: GridRun) -> str | None:
        if runner is not None:  # a custom runner's configurations need not name real data
            return None
        key = json.dumps([run.domain, config_as_json(run.config)], sort_keys=True)
        if key not in fingerprints:
            fingerprints[key] = data_fingerprint(run.domain, run.config, root)
        return fingerprints[key]

    def finished(run: GridRun) -> bool:  # metrics.json alone is not enough: same data too
        return is_finished(out, run.name, fingerprint(run))

    todo = [r for r in runs if not finished(r)]
    sources = ({r.name: find_reusable(r, reuse, fingerprint(r)) for r in todo}
               if reuse else {})
    outcome: dict[str, dict[str, Any]] = {}

    def note(message: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
        with open(out / "grid.log", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        if log is not None:
            log(message)

    note(f"grid: {len(runs)} runs, {len(runs) - len(todo)} finished before, {len(todo)} to run, "
         f"jobs {jobs}, threads {threads}")
    for run in todo:
        if (source := sources.get(run.name)) is not None:
            _copy_run(source, run_dir(out, run.name))
            note(f"reused {run.name} from {source}")
    todo = [r for r in todo if not finished(r)]

    def finish(i: int, run: GridRun, result: dict[str, Any]) -> None:
        outcome[run.name] = result
        extra = f": {result['error']}" if result["error"] else ""
        note(f"[{i}/{len(todo)}] {result['status']} {run.name} in {result['seconds']:.0f} s{extra}")
        collect_results(runs, out, outcome=outcome)

    if jobs == 1:
        for i, run in enumerate(todo, 1):
            note(f"[{i}/{len(todo)}] start {run.name}")
            finish(i, run, _execute(run, run_dir(out, run.name), root, threads, runner,
                                    progress))
    elif todo:
        context = multiprocessing.get_context("spawn")  # no forked torch/OpenMP state
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                 initializer=exit_with_parent) as pool:
            pending: dict[Future[dict[str, Any]], GridRun] = {}
            for run in todo:
                note(f"queued {run.name}")
                pending[pool.submit(_execute, run, run_dir(out, run.name), root, threads,
                                    runner, progress)] = run
            done_count = 0
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    run = pending.pop(future)
                    done_count += 1
                    try:
                        result = future.result()
                    except Exception as exc:  # the worker itself died
                        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                                  "seconds": 0.0}
                    finish(done_count, run, result)
    return collect_results(runs, out, outcome=outcome)


def summarise_metrics(domain: str, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Flat summary of a run's ``metrics.json`` for tables (fractions in [0, 1], seconds).

    hsi: ``overall_accuracy``, ``average_accuracy``, ``kappa`` (means over seeds), their
    ``*_std``, ``train_seconds`` (per seed), ``epochs``, ``seconds_per_epoch``, ``parameters``,
    ``map_seconds``, ``n_seeds``. audio and mfcc: ``clip_accuracy`` (mean over folds) and
    ``clip_accuracy_std``, ``window_accuracy`` (audio), ``train_seconds`` (all folds),
    ``fold_<k>`` (clip accuracy per test fold).
    """
    std = metrics.get("std") or {}
    row: dict[str, Any] = {}
    if domain == "hsi":
        for key in ("overall_accuracy", "average_accuracy", "kappa"):
            row[key] = metrics.get(key)
            row[f"{key}_std"] = std.get(key, 0.0)
        for key in ("train_seconds", "epochs", "parameters", "map_seconds"):
            row[key] = metrics.get(key)
        if row["train_seconds"] is not None and row["epochs"]:
            row["seconds_per_epoch"] = row["train_seconds"] / row["epochs"]
        row["n_seeds"] = len(metrics.get("seeds", [])) or 1
        return row
    row["clip_accuracy"] = metrics.get("clip_accuracy")
    row["clip_accuracy_std"] = std.get("clip_accuracy", 0.0)
    if "window_accuracy" in metrics:
        row["window_accuracy"] = metrics["window_accuracy"]
    row["train_seconds"] = metrics.get("train_seconds")
    for f in metrics.get("folds", []):
        row[f"fold_{f['fold']}"] = f["clip_accuracy"]
    return row


def collect_results(runs: Sequence[GridRun], out: str | Path, *,
                    outcome: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> list[dict[str, Any]]:
    """Gather every run's status and summary into ``results.csv`` and ``results.json``.

    Returns
    -------
    list of dict
        Per run: ``name``, ``domain``, ``status`` ("done", "failed", "skipped" or "pending"),
        ``error``, ``seconds`` (wall time of this invocation, 0 for a reused run), the tags,
        ``reused_from`` (a run copied from another grid), the :func:`summarise_metrics` keys
        and ``metrics`` (the full ``metrics.json``; in the
        JSON file only).
    """
    out = Path(out)
    outcome = outcome or {}
    rows = []
    for run in runs:
        folder = run_dir(out, run.name)
        row: dict[str, Any] = {"name": run.name, "domain": run.domain, **dict(run.tags)}
        if (folder / "error.json").is_file():  # the last attempt failed (e.g. changed data)
            err = read_json(folder / "error.json")
            row |= {"status": err["status"], "error": err["error"],
                    "seconds": outcome.get(run.name, {}).get("seconds", 0.0)}
        elif is_finished(out, run.name):
            metrics = read_json(folder / "metrics.json")
            row |= {"status": "done", "error": "",
                    "seconds": outcome.get(run.name, {}).get("seconds", 0.0)}
            row |= summarise_metrics(run.domain, metrics) | {"metrics": metrics}
            if (folder / "reused.json").is_file():
                row["reused_from"] = read_json(folder / "reused.json")["source"]
        elif run.name in outcome:  # the worker process died before it could record anything
            row |= {k: outcome[run.name][k] for k in ("status", "error", "seconds")}
        else:
            row |= {"status": "pending", "error": "", "seconds": 0.0}
        rows.append(row)
    atomic_write_json(out / "results.json", {"runs": rows})
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k != "metrics" and k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    atomic_write_text(out / "results.csv", buf.getvalue())
    return rows


def published_results(runs: Sequence[GridRun], out: str | Path) -> list[dict[str, Any]] | None:
    """Rows of a published grid folder, to render its report again without training.

    A folder copied for publication (e.g. ``docs/results/``) keeps ``results.json`` but not
    ``runs/``. Its rows are used when ``out`` has no ``runs/`` folder and ``results.json`` lists
    every run of ``runs`` as done, with the same domain and tags, and records for each its
    ``epochs`` and ``n_seeds`` (as hyperspectral rows do) so that they can be checked against the
    run's configuration. Sound rows record neither, so their grids are never rendered this way.

    Returns
    -------
    list of dict or None
        The rows in ``runs`` order (as :func:`collect_results` returns them) with
        ``rendered_from="results.json"``; None when ``out`` is not such a folder, and the runs
        are to be trained.

    Raises
    ------
    ConfigError
        ``results.json`` holds every run, done, but with other epochs or another number of
        seeds than ``runs`` ask for.
    """
    out = Path(out)
    if (out / "runs").exists() or not (out / "results.json").is_file():
        return None
    saved = {r["name"]: r for r in read_json(out / "results.json")["runs"]}
    rows = []
    for run in runs:
        row = saved.get(run.name)
        tags = json.loads(json.dumps(dict(run.tags)))  # as they read back from JSON
        if (row is None or row.get("status") != "done" or row.get("domain") != run.domain
                or any(row.get(k) != v for k, v in tags.items())
                or row.get("epochs") is None or row.get("n_seeds") is None):
            return None
        rows.append(row | {"rendered_from": "results.json"})
    for run, row in zip(runs, rows, strict=True):
        wanted = (getattr(run.config, "epochs", None), len(getattr(run.config, "seeds", ())))
        if (row["epochs"], row["n_seeds"]) != wanted:
            raise ConfigError(f"{out}/results.json holds run {run.name!r} with "
                              f"{row['epochs']} epochs and {row['n_seeds']} seed(s), expected "
                              f"{wanted[0]} and {wanted[1]}; use a new --out")
    return rows


def stderr_log(message: str) -> None:
    """Print a grid progress line to standard error."""
    print(message, file=sys.stderr, flush=True)
