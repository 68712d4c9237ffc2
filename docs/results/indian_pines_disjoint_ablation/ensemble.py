"""Line E1: for each split seed, the ensemble of a run's model seeds on that one split.

Calls the library (spectranet.hsi.ensemble.ensemble: the mean of the members' softmax
probabilities per pixel) on each run folder given, and writes the scores as JSON. Usage:
    python ensemble.py OUT.json RUN [RUN ...]     (one RUN per split seed, trained with
                                                   --seeds 0 1 2 --split-seed s)
"""

import json
import sys
from pathlib import Path

from spectranet.hsi.ensemble import ensemble

KEYS = ("overall_accuracy", "average_accuracy", "kappa", "per_class_accuracy")


def compact(metrics: dict) -> dict:
    """The scores kept in the JSON (no confusion matrix)."""
    return {k: metrics[k] for k in KEYS}


out, runs = Path(sys.argv[1]), sys.argv[2:]
result = []
for run in runs:
    config = json.loads((Path(run) / "config.json").read_text())["config"]
    scored = ensemble(run)
    result.append({
        "split_seed": config["split_seed"],
        "members": [{"seed": m["seed"]} | {k: compact(m[k]) for k in ("val", "test") if k in m}
                    for m in scored["members"]],
        "ensemble": {k: compact(v) for k, v in scored["ensemble"].items()},
        "split_sizes": scored["split_sizes"],
    })
    def oa(metrics: dict, key: str) -> str:  # runs trained with --validation none have no val
        return f"{100 * metrics[key]['overall_accuracy']:.1f}" if key in metrics else "-"

    print(f"split seed {config['split_seed']}: "
          + ", ".join(f"seed {m['seed']} val {oa(m, 'val')} test {oa(m, 'test')}"
                      for m in scored["members"])
          + f"; ensemble val {oa(scored['ensemble'], 'val')} test "
            f"{oa(scored['ensemble'], 'test')}", flush=True)
out.write_text(json.dumps(result, indent=1) + "\n")
