"""Are the sixth revision's validation curves flat? The project's rule (experiments.convergence):
the mean validation accuracy of the last 5 epochs minus the 5 before, averaged over seeds, within
1 point. Reads ../indian_pines_standard/<regime>/seed_*/metrics.json. Usage:
    python flatness.py > flatness.txt
"""
import json
from pathlib import Path

from spectranet.experiments.convergence import summarise_curves

STANDARD = Path(__file__).parent.parent / "indian_pines_standard"
print("| regime | epochs | last 5 epochs, validation OA (%) | change (points) | largest seed change "
      "| flat |")
print("|---|---|---|---|---|---|")
for regime in ("paper", "share10", "share05", "disjoint"):
    curves = [[h["val_accuracy"] for h in json.loads(p.read_text())["history"]]
              for p in sorted((STANDARD / regime).glob("seed_*/metrics.json"))]
    s = summarise_curves(curves)
    print(f"| {regime} | {s['epochs']} | {100 * s['last']:.2f} | {100 * s['change']:+.2f} | "
          f"{100 * s['largest_change']:+.2f} | {'yes' if s['flat'] else 'no'} |")
