"""Is a noisy validation curve still learning? Per seed of each line: the least-squares slope of
validation OA over epochs 11-50 (points per 10 epochs), the standard deviation of the
epoch-to-epoch noise around that line, and the convergence rule's change (mean of the last 5
epochs minus the 5 before). Usage: python trend.py LINE_FOLDER ... > trend.txt
"""
import json
import sys
from pathlib import Path

import numpy as np

for line in sys.argv[1:]:
    for path in sorted(Path(line).glob("**/seed_*/metrics.json")):
        m = json.loads(path.read_text())
        val = np.array([e["val_accuracy"] for e in m["history"]]) * 100
        epochs = np.arange(1, val.size + 1)
        tail = slice(10, None)
        slope, intercept = np.polyfit(epochs[tail], val[tail], 1)
        noise = np.std(val[tail] - (slope * epochs[tail] + intercept))
        change = val[-5:].mean() - val[-10:-5].mean()
        print(f"{Path(line).name} seed {m['seed']}: slope {10 * slope:+.2f} points / 10 epochs, "
              f"noise sd {noise:.1f}, rule change {change:+.1f}")
