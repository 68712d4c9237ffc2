"""Issue 24: the four regimes' table from the committed run folders (no training, no test choice).

Reads each regime's `metrics.json` under docs/results/indian_pines_standard/ and prints, per
regime, the recommended recipe's test OA per seed, its CNN alone, the pixel SVM alone (the
baseline fitted on the same training pixels), what each seed chose on its validation pixels, and
the paper preset on that regime (its own runs: here for the training shares, with steps matched
to the paper split's 750; indian_pines_paper and indian_pines_disjoint, 50 epochs, for the
others). Usage:
    python summarise.py [FOLDER] > table.md
FOLDER holds the regimes' run folders (default ../indian_pines_standard).
"""
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
STANDARD = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "indian_pines_standard"
PAPER_PRESET = {"paper": HERE.parent / "indian_pines_paper",
                "share10": HERE / "paper_preset_share10", "share05": HERE / "paper_preset_share05",
                "disjoint": HERE.parent / "indian_pines_disjoint"}
REGIMES = [("paper", "paper split (30 % test; a quarter of the rest validates)"),
           ("share10", "10 % training share (`--train-per-class 0.1`, as many validate)"),
           ("share05", "5 % training share (`--train-per-class 0.05`)"),
           ("disjoint", "disjoint protocol (blocks of 40 stripes, 5-pixel buffers)")]


def seeds(folder: Path) -> list[dict]:
    metrics = json.loads((folder / "metrics.json").read_text())
    return metrics.get("seeds", [metrics])


def pm(values: list[float]) -> str:
    a = 100 * np.asarray(values)
    return f"{a.mean():.2f} ± {a.std():.2f}"


print("| regime | recipe OA (%) | per seed | CNN alone | pixel SVM alone | above the SVM "
      "| chosen on validation (weight, window) | paper preset OA (%) |")
print("|---|---|---|---|---|---|---|---|")
for name, label in REGIMES:
    folder = STANDARD / name
    if not (folder / "metrics.json").is_file():
        print(f"| {label} | not run | | | | | | |")
        continue
    rows = seeds(folder)
    oa = [r["overall_accuracy"] for r in rows]
    svm = [r["svm_baseline"]["overall_accuracy"] for r in rows]
    cnn = [r["svm_mix"]["test_accuracy_cnn"] for r in rows]
    chosen = ", ".join(f"{r['svm_mix']['weight']} / {r['svm_mix']['neighbourhood']}"
                       for r in rows)
    paper = PAPER_PRESET[name]
    paper_oa = (pm([r["overall_accuracy"] for r in seeds(paper)])
                if (paper / "metrics.json").is_file() else "-")
    print(f"| {label} | **{pm(oa)}** | {' / '.join(f'{100 * v:.2f}' for v in oa)} | {pm(cnn)} "
          f"| {pm(svm)} | {sum(a > b for a, b in zip(oa, svm))} of {len(oa)} seeds | {chosen} "
          f"| {paper_oa} |")
