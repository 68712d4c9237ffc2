"""Verdicts on a paper's claims from paired results: test folds (sound) or seeds (images).

A claim "A is better than B" is judged on the differences ``A - B`` of runs that share a test
fold or a seed (paired, so that the fold's or the split's own difficulty cancels). With 4 folds
or 3 seeds a sign test or a Wilcoxon signed-rank test can never reach 5 % (their smallest
two-sided p-value is ``2 / 2**n``: 0.125 with 4 pairs, 0.25 with 3), so they would call every
claim undecided. The rule used here is the paired t-test's 95 % confidence interval of the mean
difference, ``mean ± t(0.975, n - 1) * std / sqrt(n)``, which uses the size of the differences
against their spread and so can decide with few pairs when the differences are consistent; it
assumes roughly normal differences, which a handful of pairs cannot check, so the per-pair
differences and the number of pairs that agree are printed beside every verdict.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Comparison", "compare_paired", "comparison_cells", "COMPARISON_HEADERS", "RULE",
           "HOLDS", "REVERSED", "UNDECIDED", "NO_VERDICT", "NO_VERDICT_NOTE", "unsettled_in",
           "withheld_note"]

HOLDS = "holds"
REVERSED = "reversed"
#: The third verdict, completed by the number of pairs: "not distinguishable with 4 folds".
UNDECIDED = "not distinguishable"
#: Instead of a verdict when a run behind the comparison has not settled.
NO_VERDICT = "no verdict"

#: One sentence for reports: how :func:`compare_paired` decides.
RULE = ("Verdict rule: the paired differences (claimed better minus the other, same test fold "
        "or seed) give a 95 % confidence interval of their mean, mean ± t(0.975, n-1) x std / "
        "sqrt(n) (the paired t-test); 'holds' when the interval lies above 0, 'reversed' when "
        "it lies below 0, otherwise 'not distinguishable with n folds/seeds'. A sign or "
        "Wilcoxon test cannot reach 5 % with 3-4 pairs (smallest p = 2 / 2^n), hence the "
        "t interval; it assumes roughly normal differences, so read it with the per-pair "
        "differences and how many pairs agree.")


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of two models (differences in fractions, e.g. 0.02 = 2 points).

    Attributes
    ----------
    keys : tuple
        The shared folds or seeds, sorted.
    differences : tuple of float
        ``a - b`` per key.
    mean, std : float
        Mean and sample standard deviation (``ddof=1``; NaN with one pair) of the differences.
    low, high : float
        The 95 % confidence interval of the mean (NaN with fewer than two pairs).
    agree : int
        Pairs with ``a > b``.
    verdict : str
        :data:`HOLDS`, :data:`REVERSED`, or "not distinguishable with n <unit>", or "not run"
        when no key is shared.
    """

    keys: tuple[Hashable, ...]
    differences: tuple[float, ...]
    mean: float
    std: float
    low: float
    high: float
    agree: int
    verdict: str

    @property
    def n(self) -> int:
        """Number of pairs."""
        return len(self.differences)


def compare_paired(a: Mapping[Hashable, float], b: Mapping[Hashable, float], *,
                   unit: str = "folds", confidence: float = 0.95) -> Comparison:
    """Judge the claim "a is better than b" on their paired results.

    Parameters
    ----------
    a, b : mapping of fold or seed -> score
        Higher is better (accuracy, OA as fractions or percent); only keys present in both
        are compared.
    unit : str, default "folds"
        Plural noun of the keys, used in the undecided verdict ("seeds" for images).
    confidence : float in (0, 1), default 0.95
        Level of the two-sided t interval.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> compare_paired({1: .80, 2: .78, 3: .75, 10: .70}, {1: .75, 2: .74, 3: .72, 10: .66}).verdict
    'holds'
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    keys = tuple(sorted(set(a) & set(b)))
    diffs = np.array([float(a[k]) - float(b[k]) for k in keys])
    n = len(keys)
    if n == 0:
        nan = math.nan
        return Comparison((), (), nan, nan, nan, nan, 0, "not run")
    mean = float(diffs.mean())
    std = float(diffs.std(ddof=1)) if n > 1 else math.nan
    if n > 1:
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low = high = math.nan
    if n > 1 and low > 0:
        verdict = HOLDS
    elif n > 1 and high < 0:
        verdict = REVERSED
    else:
        verdict = f"{UNDECIDED} with {n} {unit[:-1] if n == 1 else unit}"
    return Comparison(keys, tuple(float(d) for d in diffs), mean, std, low, high,
                      int((diffs > 0).sum()), verdict)


def comparison_cells(c: Comparison, *, scale: float = 100.0, digits: int = 1,
                     unsettled: Iterable[str] = ()) -> list[str]:
    """Table cells of a comparison, in points (see :data:`COMPARISON_HEADERS`).

    Per-pair differences, mean ± std, the 95 % interval, pairs agreeing, the verdict. The
    verdict is withheld when ``unsettled`` names a run behind the comparison whose validation
    curve is not flat (:func:`spectranet.experiments.convergence.unsettled_runs`): a run
    still moving would end elsewhere with more epochs.
    """
    verdict = c.verdict
    if c.n and (names := sorted(set(unsettled))):
        verdict = f"{NO_VERDICT} ({', '.join(names)}: validation curve not flat)"
    if c.n == 0:
        return ["-", "-", "-", "-", verdict]
    fmt = f"{{:+.{digits}f}}"
    per = ", ".join(f"{k}: {fmt.format(scale * d)}"
                    for k, d in zip(c.keys, c.differences, strict=True))
    spread = "" if math.isnan(c.std) else f" ± {scale * c.std:.{digits}f}"
    interval = ("-" if math.isnan(c.low) else
                f"[{fmt.format(scale * c.low)}, {fmt.format(scale * c.high)}]")
    return [per, fmt.format(scale * c.mean) + spread, interval, f"{c.agree}/{c.n}", verdict]


#: One sentence for reports whose claim tables may withhold verdicts.
NO_VERDICT_NOTE = (" 'no verdict': a run behind the comparison has a validation curve that is "
                   "not flat at the end (see the convergence table), so its accuracy would "
                   "move with more epochs and no verdict is drawn.")


def withheld_note(body: Sequence[Sequence[str]]) -> str:
    """:data:`NO_VERDICT_NOTE` if a row of a claim table (verdict last) withholds its verdict."""
    return NO_VERDICT_NOTE if any(row[-1].startswith(NO_VERDICT) for row in body) else ""


def unsettled_in(unsettled: Iterable[str], *rows: Mapping[str, object] | None) -> list[str]:
    """Names of the result ``rows`` (None skipped) that are in ``unsettled``."""
    names = set(unsettled)
    return [str(r["name"]) for r in rows if r is not None and r["name"] in names]


#: Headers matching :func:`comparison_cells`.
COMPARISON_HEADERS = ["difference per pair (points)", "mean ± std (points)",
                      "95 % interval (points)", "pairs where claimed better wins", "verdict"]
