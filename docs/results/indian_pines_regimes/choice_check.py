"""Issue 24: are the SVM member's weight and window better chosen on validation or fixed?

For each seed of finished hsi runs (with checkpoints), the CNN's probabilities on the seed's
validation pixels (the checkpoint's CNN alone) and SVMs fitted on its training pixels with mean
spectra over 1, 3, 5 and 7 pixel windows. The validation pixels are cut at random (seed 0 of
this script) into halves A and B. Rule "fixed": weight 0.5, window 1 (the standard preset of
2026-12-01). Rule "auto": the window and then the weight chosen on A
(spectranet.hsi.spectral_svm.choose_neighbourhood / choose_weight, as a run does on all of its
validation pixels). Both rules are scored on B. Only validation pixels are read: no test pixel.
Usage:
    python choice_check.py RUN [RUN ...]
"""
import sys
from pathlib import Path

import numpy as np

from spectranet.config import HSIConfig
from spectranet.engine.identity import read_run
from spectranet.engine.run import rescore
from spectranet.engine.runs import read_json
from spectranet.hsi.inference import model_from_metadata, saved_proba
from spectranet.hsi.pipeline import load_scene_of
from spectranet.hsi.spectral_svm import NEIGHBOURHOODS, SVMMix, choose_weight

for run in map(Path, sys.argv[1:]):
    stored = read_run(run, expect="hsi")[0]
    config = HSIConfig(**stored["config"])
    scene = load_scene_of(config, None)
    labels, n_classes = scene.labels.ravel(), len(scene.class_names)

    def score(saved):
        seed = int(saved.metadata["seed"])
        split = {k: np.asarray(v, dtype=np.int64)
                 for k, v in read_json(saved.path.parent / "split.json").items()
                 if k in ("train", "val")}
        saved.metadata["svm_mix"] = None  # the CNN alone
        cnn, ids = saved_proba(saved, scene, split["val"])
        half = np.random.default_rng(0).permutation(len(ids)) < len(ids) // 2
        a, b = half, ~half
        y = labels[ids]
        svm = {k: SVMMix.fit(scene.cube, scene.labels, split["train"], weight=1.0, seed=seed,
                             neighbourhood=k).pixel_proba(scene.cube, ids, n_classes)
               for k in NEIGHBOURHOODS}
        svm_a = {k: np.mean(p[a].argmax(1) == y[a]) for k, p in svm.items()}
        size = min(k for k, v in svm_a.items() if v == max(svm_a.values()))
        weight, _ = choose_weight(cnn[a], svm[size][a], y[a])

        def oa_b(w, k):
            return 100 * np.mean(((1 - w) * cnn[b] + w * svm[k][b]).argmax(1) == y[b])

        return {"seed": seed, "n_val": len(ids), "size": size, "weight": weight,
                "fixed": oa_b(0.5, 1), "auto": oa_b(weight, size), "cnn": oa_b(0.0, 1),
                "svm1": oa_b(1.0, 1)}

    rows = rescore(run, domain="hsi", build=model_from_metadata, score=score,
                   pattern="seed_*/checkpoint.pt")
    print(f"{run.name}: validation half B OA (%), choices made on half A")
    print("| seed | validation pixels | window | weight | CNN alone | pixel SVM alone | fixed "
          "(0.5, window 1) | auto | auto - fixed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['n_val']} | {r['size']} | {r['weight']} | {r['cnn']:.2f} | "
              f"{r['svm1']:.2f} | {r['fixed']:.2f} | {r['auto']:.2f} | "
              f"{r['auto'] - r['fixed']:+.2f} |")
    d = np.array([r["auto"] - r["fixed"] for r in rows])
    print(f"| mean | | | | {np.mean([r['cnn'] for r in rows]):.2f} | "
          f"{np.mean([r['svm1'] for r in rows]):.2f} | {np.mean([r['fixed'] for r in rows]):.2f}"
          f" | {np.mean([r['auto'] for r in rows]):.2f} | {d.mean():+.2f} |")
    print(f"auto above fixed on {int((d > 0).sum())} of {len(d)} seeds, equal on "
          f"{int((d == 0).sum())}\n", flush=True)
