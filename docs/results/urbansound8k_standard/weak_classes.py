"""What the weakest classes need (issue 23, item 5): per-class test accuracy of the CNN alone,
the MFCC + random forest alone and their fusion, and the confusions of air_conditioner and
engine_idling, pooled over every round (test fold x seed) of a finished `standard` run.

Reads each round's ``predictions.npz`` (``cnn_probs``, ``baseline_probs``, ``clip_true``,
``clip_pred``), which the run folder keeps and this published folder does not.

Usage: python weak_classes.py RUN > weak_classes.md
"""

import json
import sys
from pathlib import Path

import numpy as np

WEAK = ("air_conditioner", "engine_idling")

run = Path(sys.argv[1])
classes = json.loads((run / "config.json").read_text())["classes"]
k = len(classes)
confusion = {who: np.zeros((k, k), dtype=int) for who in ("CNN alone", "forest alone", "fusion")}
rounds = sorted(run.glob("fold_*/seed_*/predictions.npz"))
for path in rounds:
    saved = np.load(path)
    truth = saved["clip_true"]
    for who, pred in (("CNN alone", saved["cnn_probs"].argmax(1)),
                      ("forest alone", saved["baseline_probs"].argmax(1)),
                      ("fusion", saved["clip_pred"])):
        np.add.at(confusion[who], (truth, pred), 1)

print(f"# The weakest classes of `{run.name}`, test clips pooled over {len(rounds)} rounds\n")
print("Rounds: " + ", ".join(f"{p.parent.parent.name}/{p.parent.name}" for p in rounds) + ".\n")
print("## Accuracy per class (%)\n")
print("| class | test clips | " + " | ".join(confusion) + " |")
print("|---|---|" + "---|" * len(confusion))
for c, name in enumerate(classes):
    n = confusion["fusion"][c].sum()
    cells = [f"{100 * m[c, c] / n:.1f}" for m in confusion.values()]
    print(f"| {name} | {n} | " + " | ".join(cells) + " |")
total = confusion["fusion"].sum()
print("| **all** | " + f"{total} | " + " | ".join(
    f"**{100 * np.trace(m) / total:.1f}**" for m in confusion.values()) + " |")
for name in WEAK:
    c = classes.index(name)
    print(f"\n## `{name}`: where its test clips go (share of its {confusion['fusion'][c].sum()} "
          "clips, %)\n")
    print("| predicted as | " + " | ".join(confusion) + " |")
    print("|---|" + "---|" * len(confusion))
    order = np.argsort(-confusion["fusion"][c])
    for j in order:
        if all(m[c, j] == 0 for m in confusion.values()):
            continue
        print(f"| {classes[j]} | " + " | ".join(
            f"{100 * m[c, j] / m[c].sum():.1f}" for m in confusion.values()) + " |")
    into = {who: int(m[:, c].sum() - m[c, c]) for who, m in confusion.items()}
    print(f"\nOther classes' clips taken for `{name}`: "
          + ", ".join(f"{who} {n}" for who, n in into.items()) + ".")
