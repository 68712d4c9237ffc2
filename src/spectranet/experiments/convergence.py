"""Whether each run of a grid had stopped learning: the last epochs of its validation curves.

A verdict on a paper's claim needs models that have converged. For every finished run, the
validation accuracy of each fold's or seed's curve (the ``history`` its ``metrics.json`` keeps)
is averaged over the last :data:`LAST` epochs and compared with the :data:`LAST` epochs before;
a run is "flat" when that change, averaged over its curves, is within :data:`FLAT`. The numbers
are saved in ``convergence.json`` so that a published folder without ``runs/`` keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.engine.runs import atomic_write_json, read_json
from spectranet.experiments.report import Report, save_plot

__all__ = ["LAST", "FLAT", "run_curves", "summarise_curves", "mean_curves", "unsettled_runs",
           "convergence_section"]

#: Epochs averaged at the end of a curve, and before them.
LAST = 5
#: Largest change of validation accuracy (fraction) between the two windows for "flat".
FLAT = 0.01


def run_curves(out: str | Path, name: str) -> list[list[float]]:
    """Validation accuracy per epoch of every fold or seed of run ``name`` in grid ``out``."""
    folder = Path(out) / "runs" / name
    curves = []
    for path in sorted(folder.rglob("metrics.json")):
        if path.parent == folder:  # the run's summary (a single seed's copy): not a curve
            continue
        history = read_json(path).get("history") or []
        values = [h["val_accuracy"] for h in history if h.get("val_accuracy") is not None]
        if values:
            curves.append(values)
    return curves


def summarise_curves(curves: Sequence[Sequence[float]]) -> dict[str, Any] | None:
    """Last-epoch level and end change of a run's validation curves (None without curves).

    Returns
    -------
    dict or None
        ``curves``, ``epochs`` (shortest curve), ``last`` (mean accuracy over the last
        :data:`LAST` epochs, averaged over curves), ``change`` (that minus the :data:`LAST`
        epochs before, averaged over curves), ``largest_change`` (of any one curve, signed)
        and ``flat`` (``|change| <= FLAT``).

    Examples
    --------
    >>> s = summarise_curves([[.1] * 10 + [.5] * 10, [.2] * 15 + [.6] * 5])
    >>> round(s["change"], 2), s["flat"]
    (0.2, False)
    """
    usable = [np.asarray(c, dtype=float) for c in curves if len(c) >= 2 * LAST]
    if not usable:
        return None
    ends = [c[-LAST:].mean() for c in usable]
    changes = [c[-LAST:].mean() - c[-2 * LAST:-LAST].mean() for c in usable]
    change = float(np.mean(changes))
    return {"curves": len(usable), "epochs": int(min(len(c) for c in usable)),
            "last": float(np.mean(ends)), "change": change,
            "largest_change": float(changes[int(np.argmax(np.abs(changes)))]),
            "flat": abs(change) <= FLAT}


def _summaries(out: Path, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per run name, its ``summary`` and ``mean_curve``.

    From the run folders where they are, else from the grid's ``convergence.json`` (a
    published folder keeps no runs).
    """
    saved_path = out / "convergence.json"
    saved = read_json(saved_path) if saved_path.is_file() else {}
    curves = {r["name"]: run_curves(out, r["name"]) for r in rows if r["status"] == "done"}
    fresh = {name: {"summary": summarise_curves(cs),
                    "mean_curve": np.mean([c[:min(map(len, cs))] for c in cs], axis=0).tolist()}
             for name, cs in curves.items() if cs}
    return saved | fresh


def mean_curves(out: str | Path, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[float]]:
    """Per finished run, its validation accuracy per epoch averaged over folds or seeds.

    From the run folders where they are, else from the grid's ``convergence.json``; runs
    without validation curves are left out.
    """
    merged = _summaries(Path(out), rows)
    return {r["name"]: list(merged[r["name"]]["mean_curve"]) for r in rows
            if r["status"] == "done" and (merged.get(r["name"]) or {}).get("mean_curve")}


def unsettled_runs(out: str | Path, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Names of the finished runs whose validation curves are not flat at the end.

    Runs without validation curves (baselines, runs trained without validation) are not in it.
    A claim resting on one of these runs gets no verdict (see
    :func:`spectranet.engine.verdicts.comparison_cells`).
    """
    merged = _summaries(Path(out), rows)
    return {r["name"] for r in rows if r["status"] == "done"
            and ((merged.get(r["name"]) or {}).get("summary") or {"flat": True})["flat"] is False}


def convergence_section(rep: Report, out: str | Path, rows: Sequence[Mapping[str, Any]],
                        *, unit: str = "folds") -> None:
    """Append the convergence table and the mean validation curves of the finished runs."""
    out = Path(out)
    merged = _summaries(out, rows)
    if merged:
        atomic_write_json(out / "convergence.json", merged)
    body = []
    for r in rows:
        s = (merged.get(r["name"]) or {}).get("summary")
        if s is None:
            continue
        state = "flat" if s["flat"] else ("still rising" if s["change"] > 0 else "falling")
        body.append([r["name"], s["curves"], s["epochs"], f"{100 * s['last']:.1f}",
                     f"{100 * s['change']:+.1f}", f"{100 * s['largest_change']:+.1f}", state])
    if not body:
        return
    rep.section("Convergence: validation curves at the end of training")
    rep.table("Validation accuracy over the last epochs",
              ["run", f"curves ({unit})", "epochs", f"val accuracy %, last {LAST} epochs",
               f"change vs the {LAST} before (points)", "largest change of one curve",
               "state"], body,
              note=f"'flat': the mean over the {unit} of the change between the last {LAST} "
                   f"epochs and the {LAST} before is within {100 * FLAT:.0f} point. A verdict "
                   "on a claim is only as good as the runs behind it: a run still rising "
                   "would end higher with more epochs.")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for name in (r["name"] for r in rows):
        if name in merged:
            ax.plot(np.arange(1, len(merged[name]["mean_curve"]) + 1),
                    merged[name]["mean_curve"], label=name, linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation accuracy (mean over {unit})")
    ax.legend(fontsize=6, ncol=2)
    rep.figure("Validation curves, mean over " + unit, save_plot(fig, out, "validation_curves"))
