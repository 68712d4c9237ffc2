"""Line S5's ensembles, alone and mixed with the spectral SVM (issue 13): for each split seed,
the three S5 models trained on that seed's regions (spectranet.hsi.ensemble.ensemble, a group of
run folders), with the SVM's share chosen on validation. Usage:
    python s5_mix.py GROUP [GROUP ...]     (GROUP: comma-separated run folders of one split)
"""
import sys

import numpy as np

from spectranet.hsi.ensemble import ensemble

WEIGHTS = (0.25, 0.5, 0.75)
scores: dict[tuple[str, float], list[float]] = {}  # weight 0: CNNs alone, 1: the SVM alone
members: dict[str, list[float]] = {}
for group in sys.argv[1:]:
    runs = group.split(",")
    for w in WEIGHTS:
        r = ensemble(runs, svm_weight=w)
        for k in ("val", "test"):
            if w == WEIGHTS[0]:
                scores.setdefault((k, 0.0), []).append(100 * r["ensemble"][k]["overall_accuracy"])
                scores.setdefault((k, 1.0), []).append(100 * r["svm"][k]["overall_accuracy"])
                members.setdefault(k, []).extend(100 * m[k]["overall_accuracy"]
                                                 for m in r["members"])
            scores.setdefault((k, w), []).append(100 * r["mixed"][k]["overall_accuracy"])
        print(group, f"members {r['n_members']}", w,
              {k: round(100 * r["mixed"][k]["overall_accuracy"], 1) for k in ("val", "test")},
              flush=True)
for k in ("val", "test"):
    m = np.array(members[k])
    print(f"{k} single models: {m.mean():.1f} ± {m.std():.1f} ({' / '.join(f'{x:.1f}' for x in m)})")
    for w in (0.0, *WEIGHTS, 1.0):
        a = np.array(scores[(k, w)])
        print(f"{k} svm weight {w}: {a.mean():.1f} ± {a.std():.1f} spread {np.ptp(a):.1f} "
              f"({' / '.join(f'{x:.1f}' for x in a)})")
