"""The library's spectral SVM in line E1's ensembles (issue 13): for each of E1's split seeds,
spectranet.hsi.ensemble.ensemble(run, svm_weight=w) for several weights; the weight is chosen
on validation. Usage:
    python svm_weight.py RUN [RUN ...]     (E1 run folders, one per split seed)
"""
import sys

import numpy as np

from spectranet.hsi.ensemble import ensemble

WEIGHTS = (0.25, 0.5, 0.75)
scores = {}  # (set, weight) -> OA per split; weight 0 = the CNNs alone, 1 = the SVM alone
for run in sys.argv[1:]:
    for w in WEIGHTS:
        r = ensemble(run, svm_weight=w)
        for k in ("val", "test"):
            scores.setdefault((k, 0.0), {})[run] = 100 * r["ensemble"][k]["overall_accuracy"]
            scores.setdefault((k, 1.0), {})[run] = 100 * r["svm"][k]["overall_accuracy"]
            scores.setdefault((k, w), []).append(100 * r["mixed"][k]["overall_accuracy"])
        print(run, w, {k: round(100 * r["mixed"][k]["overall_accuracy"], 1)
                       for k in ("val", "test")}, flush=True)
for k in ("val", "test"):
    for w in (0.0, *WEIGHTS, 1.0):
        a = np.array(list(v.values()) if isinstance(v := scores[(k, w)], dict) else v)
        print(f"{k} svm weight {w}: {a.mean():.1f} ± {a.std():.1f} spread {np.ptp(a):.1f} "
              f"({' / '.join(f'{x:.1f}' for x in a)})")
