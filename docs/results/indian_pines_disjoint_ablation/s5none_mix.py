"""S5 trained on the validation regions too (--validation none), three models per split seed,
alone, as an ensemble and mixed with the spectral SVM at the share validation chose for S5's
ensembles (0.5, s5_mix.txt); these runs have no validation set, so only test OA is reported
(issue 13). Usage:
    python s5none_mix.py RUN [RUN ...]     (one run folder per split seed, seeds 0 1 2 each)
"""
import sys

import numpy as np

from spectranet.hsi.ensemble import ensemble

SVM_WEIGHT = 0.5  # chosen on validation for S5's ensembles (s5_mix.txt), not on these runs
rows: dict[str, list[float]] = {}
for run in sys.argv[1:]:
    r = ensemble(run, svm_weight=SVM_WEIGHT)
    members = [100 * m["test"]["overall_accuracy"] for m in r["members"]]
    rows.setdefault("single models", []).extend(members)
    for name in ("ensemble", "svm", "mixed"):
        rows.setdefault(name, []).append(100 * r[name]["test"]["overall_accuracy"])
    print(run, "train pixels", r["split_sizes"]["train"], "members",
          " / ".join(f"{x:.1f}" for x in members),
          {k: round(100 * r[k]["test"]["overall_accuracy"], 1) for k in ("ensemble", "svm", "mixed")},
          flush=True)
for name, values in rows.items():
    a = np.array(values)
    print(f"test {name}: {a.mean():.1f} ± {a.std():.1f} spread {np.ptp(a):.1f} "
          f"({' / '.join(f'{x:.1f}' for x in a)})")
