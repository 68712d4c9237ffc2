"""Mixed ensembles (issue 13): line E1's CNN ensemble (3 S3 models per split seed) averaged
with an RBF SVM (C=100, probabilities by Platt scaling) on each pixel's L2-normalised spectrum,
standardised on the split's training pixels. Scored per split seed on validation and test;
the weight of the SVM is chosen on validation only. Usage:
    python mixed_proxy.py RUN [RUN ...]     (E1 run folders, one per split seed)
"""
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from spectranet.config import HSIConfig
from spectranet.engine.metrics import classification_metrics
from spectranet.engine.run import rescore
from spectranet.hsi.inference import model_from_metadata, saved_proba
from spectranet.hsi.pipeline import load_scene_of

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of the SVM in the mixed probabilities
rows = []
for run in map(Path, sys.argv[1:]):
    config = HSIConfig(**json.loads((run / "config.json").read_text())["config"])
    scene = load_scene_of(config, None)
    y = scene.labels.ravel()
    split = {k: np.asarray(v, dtype=np.int64) for k, v in  # every seed shares it (E1)
             json.loads((run / "seed_0" / "split.json").read_text()).items()
             if k in ("train", "val", "test")}

    def score(saved):
        """The member's probabilities on the validation and test pixels, in split order."""
        out = {}
        for name in ("val", "test"):
            probs, ids = saved_proba(saved, scene, split[name])
            order = np.argsort(ids)
            out[name] = probs[order[np.searchsorted(ids[order], split[name])]]
        return out

    members = rescore(run, domain="hsi", build=model_from_metadata, score=score)
    cnn = {name: [m[name] for m in members] for name in ("val", "test")}
    raw = scene.cube.reshape(-1, scene.cube.shape[-1]).astype(np.float64)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    x = StandardScaler().fit(unit[split["train"]]).transform(unit)
    svm = SVC(C=100, gamma="scale", probability=True, random_state=0).fit(  # Platt
        x[split["train"]], y[split["train"]])
    row = {"split_seed": config.split_seed}
    for name in ("val", "test"):
        mean_cnn = np.mean(cnn[name], axis=0)
        p_svm = np.zeros_like(mean_cnn)
        p_svm[:, svm.classes_] = svm.predict_proba(x[split[name]])
        for w in WEIGHTS:
            mixed = (1 - w) * mean_cnn + w * p_svm
            m = classification_metrics(y[split[name]], mixed.argmax(1), n_classes=scene.n_classes)
            row[f"{name}_w{w}"] = 100 * m["overall_accuracy"]
    rows.append(row)
    print(json.dumps(row), flush=True)
for name in ("val", "test"):
    for w in WEIGHTS:
        a = np.array([r[f"{name}_w{w}"] for r in rows])
        print(f"{name} svm weight {w}: {a.mean():.1f} ± {a.std():.1f} spread {np.ptp(a):.1f} "
              f"({' / '.join(f'{v:.1f}' for v in a)})")
