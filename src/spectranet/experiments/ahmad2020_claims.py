"""Ahmad (2020)'s claims on size and convergence, and their summary with the time claims.

Beside accuracy (:mod:`~spectranet.experiments.ahmad2020_tables`) the paper says that its model
"involves fewer parameters than other 2D/3D CNN models" (Introduction) and is "less complex than
the conventional 3D CNN models" (Conclusion), that it "converged almost around 32 echos" (sic;
Section III, of Figure 4: Indian Pines, 11 x 11) and that Table II shows "a fast convergence and
computational efficiency" (Section III). Each is judged on what a grid folder keeps, published
(no ``runs/``) or not:

- parameters: each run's ``parameters``, the counts of our implementations of the compared
  models (:mod:`spectranet.hsi.comparison_models`); a count is exact, so no interval;
- convergence: the epoch at which each run's mean validation curve settles
  (:func:`settling_epoch` on :func:`~spectranet.experiments.convergence.mean_curves`, which a
  published folder keeps in ``convergence.json``);
- time: :mod:`~spectranet.experiments.ahmad2020_times`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.engine.verdicts import HOLDS, NO_VERDICT, REVERSED, UNDECIDED
from spectranet.experiments.ahmad2020_tables import ClaimTable, find_done
from spectranet.experiments.ahmad2020_times import time_tables
from spectranet.experiments.convergence import FLAT, LAST, mean_curves
from spectranet.experiments.report import Report

__all__ = ["PAPER_EPOCH", "MARGIN", "KINDS", "DOES_NOT_HOLD", "SETTLE_RULE", "settling_epoch",
           "fewer_parameters", "converged_by", "settles_earlier", "tally",
           "converged_by_claims", "table4_other_claims"]

#: The epoch the paper's text reads off its Figure 4 (Indian Pines, 11 x 11, 50 epochs).
PAPER_EPOCH = 32
#: Epochs two settling epochs must differ by for a verdict, and the slack given to "almost
#: around" 32: the convergence table's window (:data:`~spectranet.experiments.convergence.LAST`).
MARGIN = LAST
#: How each Table IV model (registry name) convolves.
KINDS: dict[str, str] = {"fast3dcnn": "3D", "conv2d": "2D", "hamida": "3D",
                         "he_multiscale": "3D", "hybridsn": "3D-2D hybrid"}
#: Verdict of a threshold claim whose measure lies on the wrong side.
DOES_NOT_HOLD = "does not hold"
#: One sentence for reports: how :func:`settling_epoch` reads a curve.
SETTLE_RULE = (
    "Settling epoch: the first epoch from which the run's mean validation curve (mean over its "
    f"seeds, as `convergence.json` keeps it) stays within {100 * FLAT:.0f} point of its final "
    f"level, the mean of its last {LAST} epochs, up to the last epoch; 'not settled' when its "
    f"last {LAST} epochs do not all lie within {100 * FLAT:.0f} point of that level (the "
    "convergence table's window and tolerance). One mean curve per run gives no interval, and "
    "a single late dip of more than 1 point moves the epoch.")
_EPS = 1e-12  # a curve exactly at the tolerance counts as inside it


def settling_epoch(curve: Sequence[float], *, tolerance: float = FLAT,
                   last: int = LAST) -> int | None:
    """The first epoch from which ``curve`` stays within ``tolerance`` of its final level.

    Parameters
    ----------
    curve : sequence of float, fractions
        Validation accuracy per epoch, epoch 1 first.
    tolerance : float >= 0, fraction, default :data:`~spectranet.experiments.convergence.FLAT`
        Largest distance from the final level (0.01 = 1 point).
    last : int >= 1, default :data:`~spectranet.experiments.convergence.LAST`
        The final level is the mean of the last ``last`` epochs.

    Returns
    -------
    int or None
        The epoch (1-based); None when the curve has fewer than ``last`` epochs or when its
        last ``last`` epochs do not all lie within ``tolerance`` of the final level.

    Raises
    ------
    ValueError
        ``tolerance`` < 0 or ``last`` < 1.

    Examples
    --------
    >>> settling_epoch([0.2, 0.5, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9])
    4
    >>> settling_epoch([0.8, 0.9, 0.8, 0.9, 0.8, 0.9]) is None
    True
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    if last < 1:
        raise ValueError(f"last must be >= 1, got {last!r}")
    values = np.asarray(curve, dtype=float)
    if values.size < last:
        return None
    outside = np.flatnonzero(np.abs(values - values[-last:].mean()) > tolerance + _EPS)
    epoch = int(outside[-1]) + 2 if outside.size else 1
    return epoch if epoch <= values.size - last + 1 else None


def fewer_parameters(ours: int, theirs: int) -> str:
    """Verdict on "ours has fewer parameters than theirs": a count is exact, no interval."""
    return HOLDS if ours < theirs else REVERSED if ours > theirs else "equal"


def converged_by(epoch: int | None, *, claim: int = PAPER_EPOCH, margin: int = MARGIN) -> str:
    """Verdict on "settled by about epoch ``claim``": ``holds`` up to ``claim + margin``."""
    if epoch is None:
        return f"{NO_VERDICT} (not settled)"
    return HOLDS if epoch <= claim + margin else DOES_NOT_HOLD


def settles_earlier(fast: int | None, other: int | None, *, margin: int = MARGIN) -> str:
    """Verdict on "the first run settles before the second", decided by ``margin`` epochs."""
    if fast is None or other is None:
        return NO_VERDICT
    gap = other - fast
    if gap >= margin:
        return HOLDS
    return REVERSED if gap <= -margin else f"{UNDECIDED} (within {margin} epochs)"


def tally(verdicts: Sequence[str]) -> str:
    """Count of each verdict kind, e.g. ``"reversed 3, holds 1"``; ``-`` when empty."""
    kinds = (HOLDS, REVERSED, DOES_NOT_HOLD, UNDECIDED, NO_VERDICT, "equal", "not run")
    counts = {k: sum(v.startswith(k) for v in verdicts) for k in kinds}
    return ", ".join(f"{k} {n}" for k, n in counts.items() if n) or "-"


def _settled(epoch: int | None) -> str:
    return "not settled" if epoch is None else str(epoch)


def _converged_by(title: str, headers: Sequence[str],
                  entries: Sequence[tuple[Sequence[str], Mapping[str, Any] | None]],
                  curves: Mapping[str, Sequence[float]], note: str) -> tuple[ClaimTable, list[str]]:
    body, verdicts = [], []
    for cells, r in entries:
        curve = curves.get(r["name"]) if r is not None else None
        if curve is None:
            verdicts.append("not run" if r is None else "no curve")
            body.append([*cells, "-", "-", verdicts[-1]])
            continue
        epoch = settling_epoch(curve)
        verdicts.append(converged_by(epoch))
        body.append([*cells, f"{100 * np.mean(curve[-LAST:]):.1f}", _settled(epoch),
                     verdicts[-1]])
    return ClaimTable(title, [*headers, f"val accuracy %, last {LAST} epochs", "settles at epoch",
                          "verdict"], body,
                  f"The paper: its model \"converged almost around {PAPER_EPOCH} echos\" (sic), "
                  f"read off its Figure 4 (Indian Pines, 11 x 11, 50 epochs). 'holds' when the "
                  f"run settles by epoch {PAPER_EPOCH + MARGIN} ({PAPER_EPOCH} plus {MARGIN} "
                  f"epochs for \"almost around\"), '{DOES_NOT_HOLD}' when later, 'no verdict' "
                  f"when it does not settle in its epochs. {SETTLE_RULE}{note}"), verdicts


def converged_by_claims(rep: Report, title: str, headers: Sequence[str],
                        entries: Sequence[tuple[Sequence[str], Mapping[str, Any] | None]],
                        curves: Mapping[str, Sequence[float]], *, note: str = "") -> list[str]:
    """Append the claim table "converged almost around 32 echos", one row per run.

    Parameters
    ----------
    rep : Report
    title : str
    headers : sequence of str
        Names of the leading cells of each entry.
    entries : sequence of (cells, row)
        Leading cells of a table row and the run's result row (None when not run).
    curves : mapping of run name -> sequence of float
        Mean validation curves (:func:`~spectranet.experiments.convergence.mean_curves`).
    note : str, default ""
        Appended to the table's note.

    Returns
    -------
    list of str
        The verdict of each entry, in order ("not run" or "no curve" where there is none).
    """
    table, verdicts = _converged_by(title, headers, entries, curves, note)
    table.add_to(rep)
    return verdicts


def _parameters(scene: str, rows: Sequence[Mapping[str, Any]], models: Mapping[str, str],
                splits: Sequence[str]) -> tuple[ClaimTable, dict[str, str]]:
    def count(model: str) -> int | None:
        return next((r.get("parameters") for s in splits
                     if (r := find_done(rows, scene=scene, model=model, split=s))), None)

    ours, body, verdicts = count("fast3dcnn"), [], {}
    for model in (m for m in models if m != "fast3dcnn"):
        theirs = count(model)
        if ours is None or theirs is None:
            body.append([models[model], KINDS.get(model, "-"), "-", "-", "-", "not run"])
            continue
        verdicts[model] = fewer_parameters(ours, theirs)
        body.append([models[model], KINDS.get(model, "-"), f"{theirs:,}", f"{ours:,}",
                     f"{ours / theirs:.2f}", verdicts[model]])
    return ClaimTable(
        f"Claim: the fast 3D CNN has fewer parameters than each comparison model ({scene})",
        ["comparison model", "kind", "parameters", "fast 3D CNN's parameters",
         "fast 3D CNN / it", "verdict"], body,
        "The paper: its model \"involves fewer parameters than other 2D/3D CNN models\" "
        "(Introduction) and is \"less complex than the conventional 3D CNN models\" "
        "(Conclusion); it prints no count for the compared models. These counts are those of "
        "our implementations of the compared models, each built after its own paper for this "
        "grid's 11 x 11 x 20 patches and this scene's classes (Table I's 994,166 are for 6 "
        "classes). A count is exact, so no interval: 'holds' when the fast 3D CNN has fewer "
        "parameters, 'reversed' when it has more. \"Less complex\" is read here as the "
        "parameter count, against the 3D CNNs; the time tables below measure the cost."), verdicts


def _settling(scene: str, rows: Sequence[Mapping[str, Any]],
              curves: Mapping[str, Sequence[float]], splits: Sequence[str],
              models: Mapping[str, str]) -> tuple[list[ClaimTable], dict[str, list[str]]]:
    epochs: dict[str, int | None] = {n: settling_epoch(c) for n, c in curves.items()}
    body = []
    for split in splits:
        for model, label in models.items():
            r = find_done(rows, scene=scene, model=model, split=split)
            if r is None or r["name"] not in curves:
                continue
            e, per = epochs[r["name"]], r.get("seconds_per_epoch")
            body.append([label, split, f"{100 * np.mean(curves[r['name']][-LAST:]):.1f}",
                         _settled(e), "-" if per is None else f"{per:.1f}",
                         "-" if per is None or e is None else f"{e * per:.0f}"])
    if not body:
        return [], {}
    per_run = ClaimTable(
        f"Validation curves: the epoch each model settles at ({scene})",
        ["model", "split", f"val accuracy %, last {LAST} epochs", "settles at epoch",
         "train s / epoch", "train s to settle"], body,
        SETTLE_RULE + " Seconds to settle = settling epoch x the run's mean training seconds "
        "per epoch (validation included).")
    verdicts: dict[str, list[str]] = {}
    body = []
    for split in splits:
        fast = find_done(rows, scene=scene, model="fast3dcnn", split=split)
        for model in (m for m in models if m != "fast3dcnn"):
            other = find_done(rows, scene=scene, model=model, split=split)
            if fast is None or other is None or not {fast["name"], other["name"]} <= set(curves):
                continue
            a, b = epochs[fast["name"]], epochs[other["name"]]
            verdict = settles_earlier(a, b)
            if verdict == NO_VERDICT:
                names = [r["name"] for r, e in ((fast, a), (other, b)) if e is None]
                verdict = f"{NO_VERDICT} ({', '.join(names)}: not settled)"
            verdicts.setdefault(split, []).append(verdict)
            body.append([models[model], split, _settled(a), _settled(b),
                         "-" if a is None or b is None else f"{b - a:+d}", verdict])
    pairs = ClaimTable(
        f"Claim: the fast 3D CNN settles before each comparison model ({scene})",
        ["comparison model", "split", "fast 3D CNN settles at", "it settles at",
         "difference (epochs)", "verdict"], body,
        "The paper reads \"a fast convergence\" of its model off Table II without comparing "
        "models; the comparison is ours. Difference: the comparison model's settling epoch "
        "minus the fast 3D CNN's (positive: the fast 3D CNN settles first). 'holds' when the "
        f"fast 3D CNN settles at least {MARGIN} epochs first, 'reversed' when at least {MARGIN} "
        f"epochs later, otherwise '{UNDECIDED} (within {MARGIN} epochs)'; 'no verdict' when a "
        "run does not settle.")
    return [per_run, pairs], verdicts


def _per_split(verdicts: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{split}: {tally(v)}" for split, v in verdicts.items()) or "-"


def table4_other_claims(rep: Report, scene: str, rows: Sequence[Mapping[str, Any]],
                        out: str | Path, splits: Sequence[str],
                        models: Mapping[str, str]) -> None:
    """Append the Table IV grid's claims on parameters, convergence and time, summary first.

    Parameters
    ----------
    rep : Report
    scene : str
    rows : sequence of dict
        The grid's result rows (tags ``scene``, ``model``, ``split``; per-seed ``metrics``).
    out : path-like
        The grid folder: mean validation curves from its runs or ``convergence.json``, jobs
        and threads from its ``grid.log``.
    splits : sequence of str
        The grid's splits, in report order.
    models : mapping of str -> str
        Registry name -> label; the fast 3D CNN is ``fast3dcnn``.
    """
    out = Path(out)
    curves = mean_curves(out, rows)
    params, fewer = _parameters(scene, rows, models, splits)
    fast = {s: find_done(rows, scene=scene, model="fast3dcnn", split=s) for s in splits}
    by32, at32 = _converged_by(
        f"Claim: the fast 3D CNN converges by about epoch {PAPER_EPOCH} ({scene})",
        ["model", "split"], [([models["fast3dcnn"], s], r) for s, r in fast.items()], curves,
        " The `paper` split is Figure 4's setting; the other splits are ours.")
    settle_tables, earlier = _settling(scene, rows, curves, splits, models)
    timed, times = time_tables(scene, rows, out, splits, models)
    summary = [
        ['"involves fewer parameters than other 2D/3D CNN models"', "Introduction",
         "parameter counts against the four comparison models", tally(list(fewer.values()))],
        ['"less complex than the conventional 3D CNN models"', "Conclusion",
         "parameter counts against the 3D CNNs: " + ", ".join(
             models[m] for m in fewer if KINDS.get(m) == "3D"),
         tally([v for m, v in fewer.items() if KINDS.get(m) == "3D"])],
        [f'"converged almost around {PAPER_EPOCH} echos" (sic)', "Section III, Figure 4",
         "settling epoch of the fast 3D CNN",
         "; ".join(f"{s}: {v}" + (f" (epoch {row[-2]})" if row[-2].isdigit() else "")
                   for s, v, row in zip(fast, at32, by32.body, strict=True))],
        ['"fast convergence"', "Section III, Table II",
         "settling epoch against each comparison model", _per_split(earlier)],
        *[['"computational efficiency"', "Section III, Table II",
           f"{what} seconds per seed against each comparison model", _per_split(v)]
          for what, v in times.items()],
    ]
    rep.section(f"{scene}: parameters, convergence and time (Ahmad's other claims)")
    rep.table(f"Ahmad's claims on size, convergence and time: verdicts ({scene})",
              ["claim (the paper's words)", "where", "judged on", "verdicts"], summary,
              note="Counts of the verdicts in the tables below (per split where the runs "
                   "differ by split); each table states its rule.")
    for table in (params, by32, *settle_tables, *timed):
        table.add_to(rep)
