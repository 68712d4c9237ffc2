"""Ahmad (2020) report pieces: finding a grid's rows and formatting their cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spectranet.experiments.report import pct

__all__ = ["find_done", "oa_aa_kappa_cells", "printed_cells", "best_window_line", "seed_oas",
           "first_seed"]


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


def seed_oas(r: Mapping[str, Any] | None) -> dict[int, float]:
    """Overall accuracy per seed of a finished run (empty when not run)."""
    if r is None:
        return {}
    m = r["metrics"]
    per_seed = m.get("seeds") or [m | {"seed": m.get("seed", 0)}]
    return {int(s["seed"]): float(s["overall_accuracy"]) for s in per_seed}


def first_seed(metrics: Mapping[str, Any]) -> int:
    """The first seed of a run's metrics."""
    seeds = metrics.get("seeds")
    return int(seeds[0]["seed"]) if seeds else int(metrics.get("seed", 0))
