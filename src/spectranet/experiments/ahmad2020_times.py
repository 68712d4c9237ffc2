"""Ahmad (2020)'s "computational efficiency" on a Table IV grid: training and inference time.

The paper times only its own model (Table II, minutes on Google Colab); it does not time the
compared models. Here every model of the grid is timed on the same machine: training (the fit
loop over all epochs) and inference (the full-scene map) in seconds per seed, ranked per split
and compared with the fast 3D CNN seed by seed (:func:`spectranet.engine.verdicts.compare_paired`).
The jobs and torch threads the runs trained with come from the grid's ``grid.log``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.engine.verdicts import (
    COMPARISON_HEADERS,
    RULE,
    Comparison,
    compare_paired,
    comparison_cells,
)
from spectranet.experiments.ahmad2020_tables import ClaimTable, find_done, seed_values

__all__ = ["TIMES", "faster", "grid_settings", "time_caveat", "time_tables"]

#: Seconds per seed that the time claims compare: metrics key -> what they time.
TIMES: dict[str, str] = {"train_seconds": "training", "map_seconds": "inference (full-scene map)"}
_GRID_LINE = re.compile(r"grid: \d+ runs, \d+ finished before, (\d+) to run, "
                        r"(jobs \d+|backend ray), threads (\d+)")


def faster(fast: Mapping[str, Any] | None, other: Mapping[str, Any] | None,
           key: str) -> Comparison:
    """Paired comparison of "``fast`` takes less time than ``other``" on the seconds ``key``.

    The differences are ``other``'s seconds minus ``fast``'s, same seed: positive when ``fast``
    is the quicker.

    Examples
    --------
    >>> row = lambda *s: {"metrics": {"seeds": [{"seed": i, "t": v} for i, v in enumerate(s)]}}
    >>> faster(row(10, 12, 11), row(20, 21, 25), "t").differences
    (10.0, 9.0, 14.0)
    """
    return compare_paired({s: -v for s, v in seed_values(fast, key).items()},
                          {s: -v for s, v in seed_values(other, key).items()}, unit="seeds")


def grid_settings(out: str | Path) -> list[str]:
    """The distinct ``jobs N, threads T`` of the grid's invocations that trained runs.

    Read from ``out/grid.log`` (one ``grid:`` line per invocation); empty when it is absent.
    """
    path = Path(out) / "grid.log"
    if not path.is_file():
        return []
    found = [f"{m[2]}, threads {m[3]}" for m in _GRID_LINE.finditer(path.read_text())
             if int(m[1]) > 0]
    return list(dict.fromkeys(found))


def time_caveat(out: str | Path) -> str:
    """Where and how the grid's times were measured, from its ``grid.log``."""
    settings = grid_settings(out)
    how = ("; ".join(f"`{s}`" for s in settings) if settings else
           "no jobs or threads (no `grid.log`)")
    one = re.fullmatch(r"jobs (\d+), threads (\d+)", settings[0]) if len(settings) == 1 else None
    cores = (f" ({one[1]} runs at a time, {one[2]} torch thread(s) each: "
             f"{int(one[1]) * int(one[2])} CPU cores in use)" if one else "")
    return (f"Times are this grid's, measured on a CPU: its invocations that trained runs "
            f"logged {how} in `grid.log`{cores}. They rank our implementations on this "
            "machine, not on the paper's hardware (Google Colab); runs trained side by side "
            "share the machine, which adds noise between seeds. Training = the fit loop over "
            "all epochs, per seed (validation included); inference = predicting every pixel "
            "of the scene for its map, per seed.")


def _ranking(scene: str, rows: Sequence[Mapping[str, Any]], out: Path, splits: Sequence[str],
             models: Mapping[str, str]) -> ClaimTable:
    body = []
    for split in splits:
        found = {m: find_done(rows, scene=scene, model=m, split=split) for m in models}
        values = {k: {m: v for m in models if (v := list(seed_values(found[m], k).values()))}
                  for k in TIMES}
        order = {k: sorted(v, key=lambda m, v=v: float(np.mean(v[m]))) for k, v in values.items()}
        for m, label in models.items():
            if found[m] is None:
                continue
            cells = []
            for k in TIMES:
                v = values[k].get(m)
                spread = f" ± {np.std(v, ddof=1):.1f}" if v and len(v) > 1 else ""
                cells += ([f"{np.mean(v):.1f}{spread}", f"{order[k].index(m) + 1}/{len(order[k])}"]
                          if v else ["-", "-"])
            body.append([label, split, *cells])
    return ClaimTable(f"Training and inference time per model ({scene}, seconds per seed)",
                      ["model", "split", "training s (mean ± std)", "rank",
                       "inference s (mean ± std)", "rank"], body,
                      time_caveat(out) + " Rank 1 = the quickest of its split; std over seeds.")


def time_tables(scene: str, rows: Sequence[Mapping[str, Any]], out: str | Path,
                splits: Sequence[str], models: Mapping[str, str]
                ) -> tuple[list[ClaimTable], dict[str, dict[str, list[str]]]]:
    """The time ranking and one claim table per measure of :data:`TIMES`, with the verdicts.

    Parameters
    ----------
    scene : str
    rows : sequence of dict
        The grid's result rows (tags ``scene``, ``model``, ``split``; per-seed ``metrics``).
    out : path-like
        The grid folder (its ``grid.log``).
    splits : sequence of str
    models : mapping of str -> str
        Registry name -> label; the fast 3D CNN is ``fast3dcnn``.

    Returns
    -------
    tables : list of ClaimTable
    verdicts : dict
        What is timed (a value of :data:`TIMES`) -> split -> the verdict per comparison model.
    """
    tables = [_ranking(scene, rows, Path(out), splits, models)]
    headers = [h.replace("points", "s") for h in COMPARISON_HEADERS]
    verdicts: dict[str, dict[str, list[str]]] = {}
    for key, what in TIMES.items():
        body = []
        for split in splits:
            fast = find_done(rows, scene=scene, model="fast3dcnn", split=split)
            for model in (m for m in models if m != "fast3dcnn"):
                other = find_done(rows, scene=scene, model=model, split=split)
                cells = comparison_cells(faster(fast, other, key), scale=1.0, digits=1)
                verdicts.setdefault(what, {}).setdefault(split, []).append(cells[-1])
                body.append([models[model], split, *cells])
        tables.append(ClaimTable(
            f"Claim: the fast 3D CNN's {what} is quicker than each comparison model's ({scene})",
            ["comparison model", "split", *headers], body,
            "The paper: Table II \"reveals a fast convergence and computational efficiency\" "
            "of its model (its own times per window; it times no compared model), and its "
            "conclusion calls it \"computationally efficient\"; the comparison is ours. "
            "Differences: the comparison model's seconds minus the fast 3D CNN's, same seed "
            "and split (positive: the fast 3D CNN is quicker). A time does not depend on "
            "whether a curve settled, so no verdict is withheld. " + RULE))
    return tables, verdicts
