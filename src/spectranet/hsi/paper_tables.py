"""Ahmad (2020)'s Tables II, III and IV as printed, as data, with lookups by scene name.

M. Ahmad, "A Fast 3D CNN for Hyperspectral Image Classification", arXiv:2004.14152 (2020).
Values are the printed ones: percent (OA, AA, kappa x 100) and minutes, keyed by the table's own
row or column labels. The tables name the scenes PU (Pavia University), IP (Indian Pines), SA
or SL (Salinas; Table II writes SL, Tables III and IV write SA, the text says SD) and SL-A
(Salinas-A); :data:`LABELS` maps our scene names onto them. Both the run reports
(:mod:`spectranet.hsi.report`) and the experiment reports
(:mod:`spectranet.experiments.ahmad2020`) quote these numbers, so they live in this layer.
"""

from __future__ import annotations

__all__ = ["CITATION", "WINDOWS", "TABLE_II_MINUTES", "TABLE_III", "TABLE_IV", "LABELS",
           "TABLE_IV_COLUMNS", "OUR_CHOICES", "table2_minutes", "table3", "table4",
           "table4_vs_table3"]

CITATION = ('M. Ahmad, "A Fast 3D CNN for Hyperspectral Image Classification", '
            "arXiv:2004.14152 (2020)")
#: Window sizes (pixels) of Tables II and III, in the tables' order.
WINDOWS: tuple[int, ...] = (11, 13, 15, 17, 19, 21, 25)

#: Table II, "computational time in minutes": dataset row -> {window column: minutes}.
TABLE_II_MINUTES: dict[str, dict[int, float]] = {
    "SL-A": dict(zip(WINDOWS, (0.22, 0.23, 0.56, 0.28, 0.98, 0.37, 0.45), strict=True)),
    "SL": dict(zip(WINDOWS, (1.34, 1.41, 1.60, 2.00, 3.17, 2.63, 3.52), strict=True)),
    "IP": dict(zip(WINDOWS, (0.33, 0.33, 0.61, 0.78, 0.62, 0.58, 0.76), strict=True)),
    "PU": dict(zip(WINDOWS, (2.16, 5.26, 1.35, 2.00, 2.46, 2.14, 2.83), strict=True)),
}

#: Table III, impact of the window size: dataset column group -> {window row: (OA, AA, kappa)}.
TABLE_III: dict[str, dict[int, tuple[float, float, float]]] = {
    "PU": {11: (99.94, 99.89, 99.92), 13: (99.81, 99.65, 99.75), 15: (99.85, 99.62, 99.80),
           17: (99.05, 98.49, 98.75), 19: (99.93, 99.78, 99.91), 21: (99.78, 99.43, 99.72),
           25: (98.79, 97.67, 98.39)},
    "IP": {11: (88.65, 83.52, 87.11), 13: (95.38, 94.14, 94.72), 15: (93.69, 93.09, 92.79),
           17: (91.80, 91.74, 90.62), 19: (93.13, 93.42, 92.15), 21: (94.34, 91.31, 93.52),
           25: (97.75, 96.17, 97.44)},
    "SA": {11: (99.80, 99.91, 99.78), 13: (99.93, 99.94, 99.93), 15: (99.99, 99.99, 99.99),
           17: (99.95, 99.97, 99.95), 19: (98.04, 94.02, 97.81), 21: (99.99, 99.99, 99.99),
           25: (99.96, 99.93, 99.95)},
    "SL-A": {11: (100.0, 100.0, 100.0), 13: (100.0, 100.0, 100.0), 15: (100.0, 100.0, 100.0),
             17: (99.93, 99.93, 99.92), 19: (100.0, 100.0, 100.0), 21: (100.0, 100.0, 100.0),
             25: (100.0, 100.0, 100.0)},
}

#: Table IV (caption: 11 x 11 spatial dimensions, 10 % of training samples): dataset row ->
#: {method column: (OA, AA, kappa)}.
TABLE_IV: dict[str, dict[str, tuple[float, float, float]]] = {
    "PU": {"Multi-scale-3D-CNN": (95.95, 97.52, 93.40), "3D-CNN": (96.34, 97.03, 94.90),
           "2D-CNN": (96.63, 94.84, 95.53), "Proposed": (98.40, 97.89, 97.89)},
    "IP": {"Multi-scale-3D-CNN": (81.39, 75.22, 81.20), "3D-CNN": (82.62, 76.51, 79.25),
           "2D-CNN": (80.27, 68.32, 75.26), "Proposed": (97.75, 94.54, 97.44)},
    "SA": {"Multi-scale-3D-CNN": (94.20, 96.66, 93.61), "3D-CNN": (85.00, 89.63, 83.20),
           "2D-CNN": (96.34, 94.36, 95.93), "Proposed": (98.06, 98.80, 97.85)},
}

#: Our scene name -> its row or column label in Table "II", "III" and "IV" (absent: not there).
LABELS: dict[str, dict[str, str]] = {
    "pavia_university": {"II": "PU", "III": "PU", "IV": "PU"},
    "indian_pines": {"II": "IP", "III": "IP", "IV": "IP"},
    "salinas": {"II": "SL", "III": "SA", "IV": "SA"},
    "salinas_a": {"II": "SL-A", "III": "SL-A"},
}

#: Our model name (:mod:`spectranet.hsi.models`) -> the Table IV column it is compared with.
#: The paper cites its 3D/2D CNNs together ([22], [26], [27], [28]) without saying which column
#: is which; Ben Hamida et al. [27] for "3D-CNN" and Makantasis et al.'s 2D CNN (not among its
#: references) for "2D-CNN" are our choices. HybridSN is not in Table IV.
TABLE_IV_COLUMNS: dict[str, str] = {"fast3dcnn": "Proposed",
                                    "he_multiscale": "Multi-scale-3D-CNN",
                                    "hamida": "3D-CNN", "conv2d": "2D-CNN"}

#: Settings the paper leaves open and what we chose, one line each (Markdown).
OUR_CHOICES: tuple[str, ...] = (
    "the dropout rate (0.4 by default; Table I lists two dropout layers without a rate)",
    "a split stratified by class (the paper gives the 30/70 test/training and 50/50 "
    "training/validation shares only)",
    "the weights of the epoch with the best validation accuracy are tested",
    "the number of repetitions (seeds)",
    "the fast 3D CNN's initialisation (Glorot-uniform weights, zero biases; the paper says "
    "only that the weights start random)",
    "the fourth convolution's input: the text prints its kernels as 64 x 3 x 3 x 3 x 16, "
    "Table I's 55,360 parameters need the third layer's 32 feature maps "
    "(64 x 3 x 3 x 3 x 32 + 64 biases); we follow Table I",
)


def _label(scene: str, table: str) -> str | None:
    return LABELS.get(scene, {}).get(table)


def table2_minutes(scene: str, window: int) -> float | None:
    """Table II's time (minutes) for our ``scene`` at ``window``; None if not printed."""
    label = _label(scene, "II")
    return None if label is None else TABLE_II_MINUTES[label].get(window)


def table3(scene: str, window: int) -> tuple[float, float, float] | None:
    """Table III's (OA, AA, kappa) in % for our ``scene`` at ``window``; None if not printed."""
    label = _label(scene, "III")
    return None if label is None else TABLE_III[label].get(window)


def table4(scene: str, column: str = "Proposed") -> tuple[float, float, float] | None:
    """Table IV's (OA, AA, kappa) in % for our ``scene`` and a method column; None if absent."""
    label = _label(scene, "IV")
    return None if label is None else TABLE_IV[label].get(column)


def _cells(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _equal(metrics: list[str], what: str) -> str:
    verb = "equals" if len(metrics) == 1 else "equal"
    return f"its {' and '.join(metrics)} {verb} {what}"


def table4_vs_table3(scene: str) -> str | None:
    """Markdown sentence on which Table III rows Table IV's "Proposed" numbers repeat.

    Table IV's caption says 11 x 11 windows, so its "Proposed" row would be expected to repeat
    Table III's 11 x 11 row. Returns None when the scene is in only one of the tables or when
    no Table IV number equals a Table III number of the same metric.

    Examples
    --------
    >>> print(table4_vs_table3("indian_pines"))  # doctest: +NORMALIZE_WHITESPACE
    Table IV's "Proposed" IP row (caption: 11 x 11, 10 % training samples) prints OA / AA /
    kappa 97.75 / 94.54 / 97.44 %. Its OA and kappa equal Table III's 25 x 25 row (97.75 /
    96.17 / 97.44 %), not the 11 x 11 row (88.65 / 83.52 / 87.11 %); its AA equals no
    Table III row.
    """
    proposed, at11 = table4(scene), table3(scene, 11)
    if proposed is None or at11 is None:
        return None
    rows = TABLE_III[LABELS[scene]["III"]]
    names = ["OA", "AA", "kappa"]
    equal = {w: [n for i, n in enumerate(names) if values[i] == proposed[i]]
             for w, values in rows.items()}
    equal = {w: ms for w, ms in equal.items() if ms}
    if not equal:
        return None
    clauses = [_equal(ms, f"Table III's {w} x {w} row ({_cells(rows[w])} %)")
               for w, ms in sorted(equal.items())]
    if 11 not in equal:
        clauses[-1] += f", not the 11 x 11 row ({_cells(at11)} %)"
    rest = [n for n in names if all(n not in ms for ms in equal.values())]
    if rest:
        clauses.append(_equal(rest, "no Table III row"))
    text = "; ".join(clauses)
    return (f"Table IV's \"Proposed\" {LABELS[scene]['IV']} row (caption: 11 x 11, 10 % training "
            f"samples) prints OA / AA / kappa {_cells(proposed)} %. {text[0].upper()}{text[1:]}.")
