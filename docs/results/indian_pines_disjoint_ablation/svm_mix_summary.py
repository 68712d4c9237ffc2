"""The derived figures of svm_mix_notes.md and val_share_notes.md section 8, from committed files.

- the SVM weight: mean of the two protocols' validation OA per weight, and the mix at 0.5
  against the CNN alone, seed by seed (standard_mix.txt);
- three-seed subsets of the fourth revision's 8 disjoint seeds: how many keep a spread of at
  most 5 points, how many a mean of at least 70 % (lines/Y_standard_svm_mix, seeds_3_7);
- the epoch-rule check over 8 seeds: means on half B and test, paired differences, t 95 %
  interval (half_val_score.txt, half_val_score_3_7.txt).
Usage: python svm_mix_summary.py   (from this folder)
"""
import ast
import itertools
import json
from pathlib import Path

import numpy as np
from scipy import stats

here = Path(__file__).parent
WEIGHTS = (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0)

disjoint_part, paper_part = (here / "standard_mix.txt").read_text().split("## paper protocol")


def seed_rows(text: str) -> list[dict]:
    return [ast.literal_eval(line.split(" ", 3)[3]) for line in text.splitlines()
            if len(line.split()) > 2 and line.split()[1] == "seed"]


disjoint, paper = seed_rows(disjoint_part), seed_rows(paper_part)
print("## the SVM weight (validation OA, %)")
for w in WEIGHTS:
    d = np.mean([r["val"][w] for r in disjoint])
    p = np.mean([r["val"][w] for r in paper])
    print(f"weight {w}: disjoint {d:.2f} (8 seeds), paper {p:.2f} (3 seeds), mean {(d + p) / 2:.2f}")
for k in ("val", "test"):
    delta = [r[k][0.5] - r[k][0.0] for r in disjoint]
    print(f"{k}: mix at 0.5 minus the CNN alone, per disjoint seed: "
          f"{' / '.join(f'{x:+.2f}' for x in delta)}")

print("\n## three-seed subsets of the fourth revision's 8 disjoint seeds")
line = here / "lines/Y_standard_svm_mix"
oa = [100 * r["overall_accuracy"] for f in (line / "metrics.json", line / "seeds_3_7/metrics.json")
      for r in json.loads(f.read_text())["seeds"]]
subsets = list(itertools.combinations(oa, 3))
print(f"8 seeds: {np.mean(oa):.2f} ± {np.std(oa):.2f}; of {len(subsets)} subsets, "
      f"{sum(np.ptp(s) <= 5 for s in subsets)} have a spread <= 5 points, "
      f"{sum(np.mean(s) >= 70 for s in subsets)} a mean >= 70 %")

print("\n## the epoch rule over 8 seeds (half_val_score*.txt)")
rows = [ast.literal_eval(line) for f in ("half_val_score.txt", "half_val_score_3_7.txt")
        for line in (here / f).read_text().splitlines() if line.startswith("{")]
for key in ("best on A: B", "last: B", "best on A: test", "last: test"):
    x = np.array([r[key] for r in rows])
    print(f"{key}: {x.mean():.2f} ± {x.std():.2f}")
d = np.array([r["last: B"] - r["best on A: B"] for r in rows])
half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
print(f"last minus best on A, on B: {' / '.join(f'{x:+.2f}' for x in d)}; mean {d.mean():+.2f}, "
      f"last ahead on {int((d > 0).sum())} of {len(d)}, t 95 % interval "
      f"[{d.mean() - half:+.2f}, {d.mean() + half:+.2f}]")
