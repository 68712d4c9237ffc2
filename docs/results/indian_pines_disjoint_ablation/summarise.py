"""Ablation table from lines/*/metrics.json, printed as markdown (run.sh writes table.md).

Test OA and AA, validation OA (mean +- std over seeds, the std of numpy with ddof=0 as in every
spectranet report), spread of test OA (max - min); one seed is printed as its value. The
validation OA is the kept epoch's, of the CNN + SVM mix for lines with `svm_weight`; the
last-10-epochs level stays the CNN's curve.

A line's seeds are those of its metrics.json (one seed, or several under "seeds") and of the
run folders beside it named seeds_*/ (lines whose seed 0 ran first, the others after). Lines
without a metrics.json (L: seed 0 only, in seed_0/) are left out. Ensemble lines (an
ensemble.json, written by ensemble.py) get a second table.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from spectranet.config import make_config

here = Path(__file__).parent
# what every line shares (the protocol and the run's bookkeeping), left out of the options column
SHARED = {"scene", "seeds", "split_seed", "preset", "device", "map_batch_size", "precision"}
# the paper preset on this ablation's regions
PAPER = dataclasses.asdict(make_config("hsi", "paper", scene="indian_pines", protocol="disjoint",
                                       block=40, split_window=11))


def seeds_of(folder: Path) -> list[dict]:
    """Per-seed metrics of a line, in seed order."""
    found = []
    for path in [folder / "metrics.json", *sorted(folder.glob("seeds_*/metrics.json"))]:
        m = json.loads(path.read_text())
        found += m.get("seeds", [m])
    return sorted(found, key=lambda s: s["seed"])


def options(folder: Path) -> str:
    """The line's settings that differ from the paper preset's on these regions (config.json).

    Against the paper preset, which stays the paper's recipe (the `standard` preset changed
    over the issue, so a line run with it is described by what it ran, not by its name).
    """
    config = json.loads((folder / "config.json").read_text())["config"]
    changed = [f"{k}={v}" for k, v in config.items()
               if k in PAPER and k not in SHARED and config[k] != PAPER[k]]
    return ", ".join(changed) or "(paper recipe)"


def pm(values: np.ndarray) -> str:
    """``mean ± std`` of several seeds, the value of one."""
    if np.isnan(values).all():
        return "-"
    return f"{values.mean():.1f} ± {values.std():.1f}" if values.size > 1 else f"{values[0]:.1f}"


def settled_val_oa(seed: dict) -> float:
    """Mean validation OA over the last 10 epochs: the level a flat curve settles at, free of
    the best-of-all-epochs selection (NaN without validation)."""
    values = [e.get("val_accuracy") for e in seed["history"][-10:]]
    return np.nan if None in values else float(np.mean(values))


def val_oa(seed: dict) -> float:
    """Validation OA of the kept (best-on-validation) epoch, mixed with the spectral SVM when
    the line has one (`svm_weight`); NaN without validation."""
    if "val_accuracy_mixed" in seed.get("svm_mix", {}):
        return seed["svm_mix"]["val_accuracy_mixed"]
    value = seed["history"][seed["best_epoch"] - 1].get("val_accuracy")
    return np.nan if value is None else value


print("| line | settings other than the paper preset's (on block 40, split window 11) | test OA (%) | spread (max-min) | test AA (%) | val OA (%) "
      "| val OA, last 10 epochs (%) | per-seed test OA | per-seed val OA | best epochs | train s/seed | classes at 0 % test "
      "(per seed) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for folder in sorted((here / "lines").iterdir()):
    if not (folder / "metrics.json").is_file():
        continue
    seeds = seeds_of(folder)
    oa = np.array([s["overall_accuracy"] for s in seeds]) * 100
    aa = np.array([s["average_accuracy"] for s in seeds]) * 100
    val = np.array([val_oa(s) for s in seeds]) * 100
    settled = np.array([settled_val_oa(s) for s in seeds]) * 100
    zero = [sum(a == 0 for a in s["per_class_accuracy"]) for s in seeds]
    spread = f"{np.ptp(oa):.1f}" if oa.size > 1 else "-"
    print(f"| {folder.name} | `{options(folder)}` | {pm(oa)} | {spread} | {pm(aa)} | {pm(val)} | {pm(settled)} "
          f"| {', '.join(f'{v:.1f}' for v in oa)} | {', '.join(f'{v:.1f}' for v in val if v == v) or '-'} "
          f"| {', '.join(str(s['best_epoch']) for s in seeds)} "
          f"| {np.mean([s['train_seconds'] for s in seeds]):.0f} "
          f"| {', '.join(map(str, zero))} |")

ensembles = sorted(f for f in (here / "lines").iterdir() if (f / "ensemble.json").is_file())
if ensembles:
    print()
    print("| line | split seed | members' val OA (seeds) | members' test OA | ensemble val OA "
          "| ensemble test OA | ensemble test AA |")
    print("|---|---|---|---|---|---|---|")
for folder in ensembles:
    for e in json.loads((folder / "ensemble.json").read_text()):
        members = e["members"]
        cells = [", ".join(f"{100 * m[k]['overall_accuracy']:.1f}" for m in members)
                 for k in ("val", "test")]
        ens = e["ensemble"]
        print(f"| {folder.name} | {e['split_seed']} | {cells[0]} "
              f"({', '.join(str(m['seed']) for m in members)}) | {cells[1]} "
              f"| {100 * ens['val']['overall_accuracy']:.1f} "
              f"| {100 * ens['test']['overall_accuracy']:.1f} "
              f"| {100 * ens['test']['average_accuracy']:.1f} |")
