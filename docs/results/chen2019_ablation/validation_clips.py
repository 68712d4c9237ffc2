"""Which clips each of the ablation's choices saw (issue 23): for every finished run and round,
the test fold, the validation clips' names and source recordings (fsID), from the round's
``split.json``, and their folds, from its ``metrics.json``. Writes ``validation_clips.json`` beside this script.

Usage: python validation_clips.py GRID   (the experiment's folder, with its runs/)
"""

import json
import sys
from pathlib import Path

grid = Path(sys.argv[1])
out = {}
for split_file in sorted(grid.glob("runs/*/fold_*/seed_*/split.json")):
    split = json.loads(split_file.read_text())
    names, groups = split["clip_names"], split["clip_groups"]
    val = split["val"]
    run, fold, seed = split_file.parts[-4], split_file.parts[-3], split_file.parts[-2]
    train_groups = {groups[i] for i in split["train"]}
    out.setdefault(run, {})[f"{fold}/{seed}"] = {
        "test_fold": split["test_fold"],
        "validation_clips": len(val),
        "validation_folds": json.loads((split_file.parent / "metrics.json").read_text())
        ["validation"]["folds"] if (split_file.parent / "metrics.json").is_file() else None,
        "validation_recordings": sorted({groups[i] for i in val}),
        "recordings_on_both_sides": sorted({groups[i] for i in val} & train_groups),
        "validation_clip_names": [names[i] for i in val],
    }
target = Path(__file__).with_name("validation_clips.json")
target.write_text(json.dumps(out, indent=1) + "\n")
for run, rounds in out.items():
    for key, r in rounds.items():
        print(f"{run} {key}: test fold {r['test_fold']}, {r['validation_clips']} validation clips "
              f"from folds {r['validation_folds']}, {len(r['validation_recordings'])} recordings, "
              f"{len(r['recordings_on_both_sides'])} on both sides")
