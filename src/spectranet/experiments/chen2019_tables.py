"""Chen et al. (2019) report pieces: the model table, the bar figure, the paired claim table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.engine.verdicts import (
    COMPARISON_HEADERS,
    HOLDS,
    RULE,
    compare_paired,
    comparison_cells,
    unsettled_in,
    withheld_note,
)
from spectranet.experiments.report import Report, pct, save_plot

__all__ = ["clip_accuracy", "fold_accuracies", "model_table", "bar_figure", "Pair",
           "pairs_table", "group_pairs"]


def clip_accuracy(row: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
    """Mean and std of a finished run's clip accuracy over its test folds; Nones otherwise."""
    if not row or row["status"] != "done":
        return None, None
    return row["clip_accuracy"], row["clip_accuracy_std"]


def fold_accuracies(row: Mapping[str, Any] | None) -> dict[int, float]:
    """Clip accuracy per test fold of a finished run (empty otherwise)."""
    if not row or row["status"] != "done":
        return {}
    return {f["fold"]: f["clip_accuracy"] for f in row["metrics"]["folds"]}


def model_table(rep: Report, title: str, rows: Sequence[Mapping[str, Any]], *,
                 paper: Mapping[str, str] | None = None, note: str | None = None) -> None:
    """One row per run; ``paper`` maps a model name to its paper cell, as printed."""
    folds = sorted({k for r in rows for k in fold_accuracies(r)})
    headers = ["run", "group", "model", "spec", "filters",
               "clip accuracy % (mean ± std over folds)",
               *[f"fold {k}" for k in folds], "train time (min)", "paper %"]
    body = []
    for r in rows:
        m, s = clip_accuracy(r)
        fa = fold_accuracies(r)
        cfg = r.get("config_filters", "-")
        key = r.get("model") or r.get("variant")
        label = f"Test {r['test']}: {key}" if r.get("test") else key
        spec = f"`{r['spec']}`" if r.get("spec", "-") != "-" else "-"
        body.append([r["name"], r.get("group", "-"), label, spec, cfg,
                     pct(m, s), *[pct(fa.get(k)) for k in folds],
                     "-" if not r.get("train_seconds") else f"{r['train_seconds'] / 60:.1f}",
                     (paper or {}).get(key, "-")])
    rep.table(title, headers, body, note=note)


def bar_figure(rep: Report, out: Path, name: str, title: str,
               rows: Sequence[Mapping[str, Any]], variants: Sequence[str]) -> None:
    """Grouped bars of clip accuracy: one group per Chen group, one bar per variant."""
    from spectranet.engine.plots import plot_grouped_bars

    by = {(r.get("group"), r.get("variant")): r for r in rows}
    series, errors = {}, {}
    for v in variants:
        accs = [clip_accuracy(by.get((g, v))) for g in (1, 2, 3)]
        series[v] = [np.nan if a is None else a for a, _ in accs]
        errors[v] = [0.0 if s is None else s for _, s in accs]
    fig = plot_grouped_bars(["Group 1", "Group 2", "Group 3"], series, errors=errors,
                            ylabel="clip accuracy (mean over test folds)", title=title,
                            ylim=(0, 1))
    rep.figure(title, save_plot(fig, out, name))


Pair = tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]


def pairs_table(rep: Report, pairs: Sequence[Pair], claim: str, first: str,
                second: str, unsettled: set[str] = frozenset()) -> None:
    """Claim table: one line per (label, claimed better run, other run), paired over folds.

    Pairs with a run in ``unsettled`` (validation curve not flat) get no verdict.
    """
    body = [[label, *comparison_cells(compare_paired(fold_accuracies(a), fold_accuracies(b)),
                                      unsettled=unsettled_in(unsettled, a, b))]
            for label, a, b in pairs]
    held = sum(line[-1] == HOLDS for line in body)
    rep.table(f"Claim: {claim}", ["pair", *COMPARISON_HEADERS], body,
              note=f"Differences: {first} minus {second}, clip accuracy, same test fold. "
                   + RULE + withheld_note(body))
    rep.add(f"The claim holds in {held} of {len(body)} comparisons.", "")


def group_pairs(rows: Sequence[Mapping[str, Any]], a: str, b: str) -> list[Pair]:
    """The (Group g, variant ``a`` run, variant ``b`` run) pairs of groups 1 to 3."""
    by = {(r.get("group"), r.get("variant")): r for r in rows}
    return [(f"Group {g}", by.get((g, a)), by.get((g, b))) for g in (1, 2, 3)]
