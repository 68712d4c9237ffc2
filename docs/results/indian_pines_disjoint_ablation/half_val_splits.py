"""Split files for the fair epoch-rule check (issue 13): line W's regions per seed, with each
class's validation pixels cut in two by position (row-major order: the first half is A, the
second B). A validates (picks the best epoch); B is left out of the run and scores the rule
afterwards (half_val_score.py). Codes: 1 training, 2 test, 3 validation A, 0 unused (B too).
Usage: python half_val_splits.py RUN OUT_DIR   (RUN: a finished W / `standard` disjoint run)
"""
import json
import sys
from pathlib import Path

import numpy as np

from spectranet.hsi.datasets import load_scene

run, out = Path(sys.argv[1]), Path(sys.argv[2])
labels = load_scene("indian_pines").labels
for file in sorted(run.glob("seed_*/split.json")):
    split = json.loads(file.read_text())
    codes = np.zeros(labels.size, dtype=np.uint8)
    codes[np.asarray(split["train"])] = 1
    codes[np.asarray(split["test"])] = 2
    val = np.sort(np.asarray(split["val"], dtype=np.int64))
    half_b = []
    for k in np.unique(labels.ravel()[val]):
        mine = val[labels.ravel()[val] == k]
        codes[mine[: (mine.size + 1) // 2]] = 3
        half_b.append(mine[(mine.size + 1) // 2:])
    seed = file.parent.name.split("_")[1]
    np.save(out / f"seed_{seed}_codes.npy", codes.reshape(labels.shape))
    np.save(out / f"seed_{seed}_half_b.npy", np.sort(np.concatenate(half_b)))
    print(seed, {n: int((codes == c).sum()) for n, c in (("train", 1), ("test", 2), ("val_a", 3))},
          "val_b", sum(b.size for b in half_b))
