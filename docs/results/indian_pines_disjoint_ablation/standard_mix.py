"""The `standard` preset's models mixed with the spectral SVM, seed by seed (issue 13).

Each seed of a standard run has its own regions, so each model is mixed with an SVM fitted on
that seed's training pixels: probabilities (1 - w) * CNN + w * SVM, scored on the seed's
validation and test pixels for w in WEIGHTS. w is to be chosen on validation. Usage:
    python standard_mix.py RUN [RUN ...]     (finished hsi run folders with checkpoints)
"""
import sys
from pathlib import Path

import numpy as np

from spectranet.config import HSIConfig
from spectranet.engine.identity import read_run
from spectranet.engine.metrics import classification_metrics
from spectranet.engine.run import rescore
from spectranet.engine.runs import read_json
from spectranet.hsi.inference import model_from_metadata, saved_proba
from spectranet.hsi.pipeline import load_scene_of
from spectranet.hsi.spectral_svm import fit_spectral_svm, spectral_svm_proba

WEIGHTS = (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0)
scores: dict[tuple[str, float], list[float]] = {}
for run in map(Path, sys.argv[1:]):
    stored = read_run(run, expect="hsi")[0]
    config = HSIConfig(**stored["config"])
    scene = load_scene_of(config, None)
    labels, k_classes = scene.labels.ravel(), len(scene.class_names)

    def score(saved):
        split = {k: np.asarray(v, dtype=np.int64)
                 for k, v in read_json(saved.path.parent / "split.json").items()
                 if k in ("train", "val", "test")}
        sets = [k for k in ("val", "test") if len(split.get(k, []))]
        svm = fit_spectral_svm(scene.cube, scene.labels, split["train"],
                               seed=int(saved.metadata["seed"]))
        out = {}
        for k in sets:
            cnn, ids = saved_proba(saved, scene, split[k], batch_size=1024)
            order = np.argsort(ids)
            cnn = cnn[order[np.searchsorted(ids[order], split[k])]]
            svm_p = spectral_svm_proba(svm, scene.cube, split[k], k_classes)
            out[k] = {w: 100 * classification_metrics(
                labels[split[k]], ((1 - w) * cnn + w * svm_p).argmax(1),
                n_classes=k_classes)["overall_accuracy"] for w in WEIGHTS}
        return {"seed": int(saved.metadata["seed"]), "scores": out}

    for unit in rescore(run, domain="hsi", build=model_from_metadata, score=score,
                        pattern="seed_*/checkpoint.pt"):
        print(run, "seed", unit["seed"],
              {k: {w: round(v, 2) for w, v in s.items()} for k, s in unit["scores"].items()},
              flush=True)
        for k, s in unit["scores"].items():
            for w, v in s.items():
                scores.setdefault((k, w), []).append(v)
for (k, w), a in sorted(scores.items()):
    a = np.array(a)
    print(f"{k} svm weight {w}: {a.mean():.2f} ± {a.std():.2f} spread {np.ptp(a):.1f} "
          f"({' / '.join(f'{x:.1f}' for x in a)})")
