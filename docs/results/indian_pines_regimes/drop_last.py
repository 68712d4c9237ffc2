"""The fifth revision with and without --drop-last, seed by seed (issue 24's one-pixel batches).

Reads the sixth revision's runs in ../indian_pines_standard/<regime>/ (the fifth with
--drop-last) and the fifth revision's in fifth_revision/<regime>/ beside this script (same
splits: same seeds and protocol). Prints the
validation OA (the CNN alone at the kept epoch and the mix the run chose) first, then test OA.
Usage:
    python drop_last.py > drop_last.txt
"""
import json
from pathlib import Path

HERE = Path(__file__).parent
print("| regime | seed | last batch (pixels) | validation: CNN alone | CNN alone, drop-last | "
      "mix | mix, drop-last | test: recipe | recipe, drop-last |")
print("|---|---|---|---|---|---|---|---|---|")
for regime in ("paper", "share10", "share05", "disjoint"):
    for seed in (0, 1, 2):
        new = HERE.parent / "indian_pines_standard" / regime / f"seed_{seed}" / "metrics.json"
        if not new.is_file():
            continue
        old = json.loads((HERE / "fifth_revision" / regime / f"seed_{seed}" /
                          "metrics.json").read_text())
        new = json.loads(new.read_text())
        assert new["split_sizes"] == old["split_sizes"]  # the same pixels
        a, b = old["svm_mix"], new["svm_mix"]
        print(f"| {regime} | {seed} | {old['split_sizes']['train'] % 256} | "
              f"{100 * a['val_accuracy_cnn']:.2f} | {100 * b['val_accuracy_cnn']:.2f} | "
              f"{100 * a['val_accuracy_mixed']:.2f} | {100 * b['val_accuracy_mixed']:.2f} | "
              f"{100 * old['overall_accuracy']:.2f} | {100 * new['overall_accuracy']:.2f} |")
