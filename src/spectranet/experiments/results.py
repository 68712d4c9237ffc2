"""A grid's results: one row per run in ``results.csv`` and ``results.json``.

:func:`collect_results` gathers them after every run; :func:`published_results` reads them back
from a published copy of a grid folder (no ``runs/``), so its report renders without training.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spectranet.engine.runs import atomic_write_json, atomic_write_text, read_json
from spectranet.errors import ConfigError
from spectranet.experiments.gridruns import GridRun, is_finished, run_dir

__all__ = ["summarise_metrics", "collect_results", "published_results"]


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
        for key in ("epochs", "parameters"):  # counts, though several seeds' mean is a float
            if row[key] is not None:
                row[key] = int(round(row[key]))
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
