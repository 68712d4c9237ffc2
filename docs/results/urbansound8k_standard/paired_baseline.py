"""The CNN against the MFCC + random forest baseline of this run, by the experiment reports' rule.

Reads the committed ``metrics.json`` (the CNN) and ``baseline.json`` (the forest, same test
folds) and judges "the CNN is better than the baseline" with
:func:`spectranet.engine.verdicts.compare_paired` (paired t 95 % interval over the test
folds), the rule of every ``spectranet experiment`` report. Nothing is trained.
Usage: python paired_baseline.py > paired_baseline.txt
"""
import json
from pathlib import Path

from spectranet.engine.verdicts import compare_paired

here = Path(__file__).parent
cnn, forest = (json.loads((here / f).read_text()) for f in ("metrics.json", "baseline.json"))
a = {f["fold"]: 100 * f["clip_accuracy"] for f in cnn["folds"]}
b = {f["fold"]: 100 * f["clip_accuracy"] for f in forest["folds"]}
c = compare_paired(a, b, unit="folds")
print("urbansound8k_standard: CNN (preset standard) minus MFCC + random forest, clip accuracy, "
      "points, same test fold")
print("per fold: " + ", ".join(f"{k}: {d:+.2f}" for k, d in zip(c.keys, c.differences)))
print(f"mean {c.mean:+.2f} ± {c.std:.2f} (std over folds); paired t 95 % interval "
      f"[{c.low:+.2f}, {c.high:+.2f}]; CNN ahead on {c.agree} of {c.n} folds; verdict: "
      f"{c.verdict}")
