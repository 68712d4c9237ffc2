"""Score the epoch rules on the held-back half B of the validation regions (issue 13).

Per seed, three models of the same training trajectory (the `standard` preset on line W's
regions): the epoch chosen on validation half A (half_val_splits.py, runs trained with
--split-file), the last epoch (--validation monitor, line W_val_quarter_monitor) and, for
reference only, the epoch chosen on the whole validation (line W, which saw B). B decides
between the first two; test is printed beside it.
Usage: python half_val_score.py HALF_DIR MONITOR_RUN W_RUN SEED [SEED ...]
"""
import json
import sys
from pathlib import Path

import numpy as np

from spectranet.engine.run import rescore
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.inference import model_from_metadata, saved_proba

half, monitor, whole = map(Path, sys.argv[1:4])
scene = load_scene("indian_pines")
labels = scene.labels.ravel()


def oa(run: Path, seed: str, pixels: np.ndarray) -> tuple[float, int]:
    (row,) = rescore(run, domain="hsi", build=model_from_metadata,
                     score=lambda saved: {"proba": saved_proba(saved, scene, pixels),
                                          "epoch": saved.metadata.get("seed")},
                     pattern=f"seed_{seed}/checkpoint.pt")
    p, ids = row["proba"]
    return 100 * float((p.argmax(1) == labels[ids]).mean()), ids.size


rows = []
for seed in sys.argv[4:]:
    b = np.load(half / f"seed_{seed}_half_b.npy")
    test = np.asarray(json.loads((whole / f"seed_{seed}/split.json").read_text())["test"])
    a_run = half / f"run_{seed}"
    a_metrics = json.loads((a_run / f"seed_{seed}/metrics.json").read_text())
    w_metrics = json.loads((whole / f"seed_{seed}/metrics.json").read_text())
    same = [h["train_loss"] for h in a_metrics["history"]] == [
        h["train_loss"] for h in w_metrics["history"]]
    row = {"seed": seed, "same trajectory as W": same, "epoch on A": a_metrics["best_epoch"],
           "epoch on all val (W)": w_metrics["best_epoch"]}
    for name, run in (("best on A", a_run), ("last", monitor), ("best on all val", whole)):
        row[f"{name}: B"] = round(oa(run, seed, b)[0], 2)
        row[f"{name}: test"] = round(oa(run, seed, test)[0], 2)
    print(row, flush=True)
    rows.append(row)
for key in [k for k in rows[0] if k.endswith(": B") or k.endswith(": test")]:
    v = np.array([r[key] for r in rows])
    print(f"{key}: {v.mean():.2f} ± {v.std():.2f} ({' / '.join(f'{x:.2f}' for x in v)})")
