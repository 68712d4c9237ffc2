"""Ablation table from lines/*/metrics.json: test OA and AA, validation OA (mean +- std over
seeds, the std of numpy with ddof=0 as in every spectranet report), spread of test OA (max - min)."""

import json
from pathlib import Path

import numpy as np

here = Path(__file__).parent
print("| line | command options | test OA (%) | spread (max-min) | test AA (%) | val OA (%) "
      "| per-seed test OA | per-seed val OA | best epochs | train s/seed |")
print("|---|---|---|---|---|---|---|---|---|---|")
for folder in sorted((here / "lines").iterdir()):
    if not (folder / "metrics.json").is_file():
        continue
    m = json.loads((folder / "metrics.json").read_text())
    seeds = m["seeds"]
    oa = np.array([s["overall_accuracy"] for s in seeds]) * 100
    aa = np.array([s["average_accuracy"] for s in seeds]) * 100
    val = np.array([s["history"][s["best_epoch"] - 1]["val_accuracy"] for s in seeds]) * 100
    cmd = (folder / "command.txt").read_text().split("--seeds 0 1 2")[-1].replace("--out RUN", "")
    cmd = cmd.replace("--preset paper", "").strip() or "(paper recipe)"
    print(f"| {folder.name} | `{cmd}` | {oa.mean():.1f} ± {oa.std():.1f} | {np.ptp(oa):.1f} "
          f"| {aa.mean():.1f} ± {aa.std():.1f} | {val.mean():.1f} ± {val.std():.1f} "
          f"| {', '.join(f'{v:.1f}' for v in oa)} | {', '.join(f'{v:.1f}' for v in val)} "
          f"| {', '.join(str(s['best_epoch']) for s in seeds)} "
          f"| {np.mean([s['train_seconds'] for s in seeds]):.0f} |")
