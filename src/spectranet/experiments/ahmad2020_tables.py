"""Ahmad (2020) report pieces: finding a grid's rows, formatting their cells, claim tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from spectranet.engine.verdicts import (
    COMPARISON_HEADERS,
    RULE,
    compare_paired,
    comparison_cells,
    unsettled_in,
    withheld_note,
)
from spectranet.experiments.report import Report, pct
from spectranet.hsi import paper_tables
from spectranet.hsi.paper_tables import TABLE_IV, TABLE_IV_COLUMNS

__all__ = ["find_done", "oa_aa_kappa_cells", "printed_cells", "best_window_line", "seed_oas",
           "seed_values", "first_seed", "window_claims", "table4_claims", "ClaimTable"]


class ClaimTable(NamedTuple):
    """A table built before it is appended (e.g. after a summary of its verdicts)."""

    title: str
    headers: list[str]
    body: list[list[Any]]
    note: str

    def add_to(self, rep: Report) -> None:
        """Append the table to ``rep``."""
        rep.table(self.title, self.headers, self.body, note=self.note)


def find_done(rows: Sequence[Mapping[str, Any]], **tags: Any) -> Mapping[str, Any] | None:
    """The first row with these tags when it finished, else None."""
    for r in rows:
        if all(r.get(k) == v for k, v in tags.items()):
            return r if r["status"] == "done" else None
    return None


def oa_aa_kappa_cells(r: Mapping[str, Any] | None) -> list[str]:
    """OA, AA and kappa cells (%, ± std over seeds when several) of a row; dashes if None."""
    if r is None:
        return ["-", "-", "-"]
    seeds = r.get("n_seeds", 1) > 1
    return [pct(r[k], r[f"{k}_std"] if seeds else None, digits=2)
            for k in ("overall_accuracy", "average_accuracy", "kappa")]


def printed_cells(values: tuple[float, ...] | float | None, n: int = 1) -> list[str]:
    """The paper's printed value(s) as ``n`` table cells (two decimals); ``-`` if not printed."""
    if values is None:
        return ["-"] * n
    return [f"{v:.2f}" for v in (values if isinstance(values, tuple) else (values,))]


def best_window_line(who: str, oas: Mapping[int, float]) -> str:
    """Bullet naming the best window and the OA (%) at the smallest and largest windows."""
    best, low, high = max(oas, key=lambda w: oas[w]), min(oas), max(oas)
    return (f"- {who}: best OA at {best} x {best} ({oas[best]:.2f} %); OA {oas[low]:.2f} % at "
            f"{low} x {low} and {oas[high]:.2f} % at {high} x {high}.")


def seed_values(r: Mapping[str, Any] | None, key: str) -> dict[int, float]:
    """``key`` of each seed of a finished run's metrics (empty when not run or not recorded)."""
    if r is None:
        return {}
    m = r["metrics"]
    per_seed = m.get("seeds") or [m | {"seed": m.get("seed", 0)}]
    return {int(s["seed"]): float(s[key]) for s in per_seed if s.get(key) is not None}


def seed_oas(r: Mapping[str, Any] | None) -> dict[int, float]:
    """Overall accuracy per seed of a finished run (empty when not run)."""
    return seed_values(r, "overall_accuracy")


def first_seed(metrics: Mapping[str, Any]) -> int:
    """The first seed of a run's metrics."""
    seeds = metrics.get("seeds")
    return int(seeds[0]["seed"]) if seeds else int(metrics.get("seed", 0))


def window_claims(rep: Report, scene: str, rows: Sequence[Mapping[str, Any]],
                  windows: Sequence[int], printed: Mapping[int, float], unsettled: set[str],
                  protocols: Sequence[str]) -> None:
    """Claim table: each larger window above the smallest, per protocol, paired by seed.

    ``printed`` maps a window to the paper's Table III OA; claims resting on a run in
    ``unsettled`` (validation curve not flat) get no verdict.
    """
    base = min(windows)
    body = []
    for w in (w for w in windows if w != base):
        paper = (f"{printed[w]:.2f} vs {printed[base]:.2f}" if w in printed and base in printed
                 else "-")
        for p in protocols:
            a = find_done(rows, scene=scene, window=w, protocol=p)
            b = find_done(rows, scene=scene, window=base, protocol=p)
            c = compare_paired(seed_oas(a), seed_oas(b), unit="seeds")
            body.append([f"{w} x {w} above {base} x {base}", p, paper if p == "paper" else "-",
                         *comparison_cells(c, digits=2,
                                           unsettled=unsettled_in(unsettled, a, b))])
    if not body:
        return
    label = paper_tables.LABELS.get(scene, {}).get("III", "-")
    ip = paper_tables.TABLE_III["IP"]
    rep.table(f"Claim: a larger window than {base} x {base} gives a higher OA ({scene})",
              ["claim", "protocol", f"Ahmad Table III ({label}): OA %", *COMPARISON_HEADERS],
              body,
              note="The claim is read from the paper's Table III, whose Indian Pines OA "
                   f"rises from {ip[11][0]:.2f} % at 11 x 11 to {ip[25][0]:.2f} % at 25 x 25. "
                   "Its text finds 11 x 11 "
                   "\"enough\" for Pavia University, Salinas and Salinas-A and says that 13 x 13 "
                   "and 25 x 25 \"both works almost the same\" without naming the scene, which "
                   "leaves Indian Pines. Differences: OA of the larger window minus OA at "
                   f"{base} x {base}, same seed. " + RULE + withheld_note(body))


def table4_claims(rep: Report, scene: str, rows: Sequence[Mapping[str, Any]], label: str,
                  unsettled: set[str], splits: Sequence[str], models: Mapping[str, str]) -> None:
    """Claim table: the fast 3D CNN above each comparison model, per split, paired by seed.

    ``label`` is the scene's column of Table IV, ``models`` maps registry names to labels;
    claims resting on a run in ``unsettled`` (validation curve not flat) get no verdict.
    """
    printed = TABLE_IV.get(label, {})
    ours = printed.get(TABLE_IV_COLUMNS["fast3dcnn"])
    body = []
    for split in splits:
        fast = find_done(rows, scene=scene, model="fast3dcnn", split=split)
        for model in (m for m in models if m != "fast3dcnn"):
            other = printed.get(TABLE_IV_COLUMNS.get(model, ""))
            paper = (f"{ours[0] - other[0]:+.2f}" if ours and other and split != "disjoint"
                     else "-")
            rival = find_done(rows, scene=scene, model=model, split=split)
            c = compare_paired(seed_oas(fast), seed_oas(rival), unit="seeds")
            body.append([models[model], split, paper,
                         *comparison_cells(c, digits=2,
                                           unsettled=unsettled_in(unsettled, fast, rival))])
    rep.table(f"Claim: the fast 3D CNN above each comparison model ({scene}, OA)",
              ["comparison model", "split", f"Ahmad Table IV ({label}): Proposed minus it, OA "
               "points", *COMPARISON_HEADERS], body,
              note="The paper states that its model outperforms the compared methods (Table IV "
                   "and its conclusion). Differences: OA of the fast 3D CNN minus OA of the "
                   "comparison model, same seed and split. " + RULE + withheld_note(body))
