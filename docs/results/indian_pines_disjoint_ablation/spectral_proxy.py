"""Is the spectral information, or its PCA to 20 components, the limit? Cheap classifiers on the
centre pixel only, blocked disjoint split (window 11, block 40), seeds 0-2, fitted on training
pixels, scored on VALIDATION (and test, reported, not used for choices).
Usage: python spectral_proxy.py > spectral_proxy.txt"""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split

scene = load_scene("indian_pines")
labels, y = scene.labels, scene.labels.ravel()
X = scene.cube.reshape(labels.size, -1).astype(np.float64)
for name, comps in (("SVM-RBF, PCA 20", 20), ("SVM-RBF, PCA 30", 30), ("SVM-RBF, PCA 50", 50),
                    ("SVM-RBF, all 200 bands", None)):
    vals, tests = [], []
    for seed in range(3):
        split = disjoint_split(labels, window=11, val_size=0.35, seed=seed, block=40)
        steps = [StandardScaler()] + ([PCA(comps), StandardScaler()] if comps else [])
        model = make_pipeline(*steps, SVC(C=100, gamma="scale"))
        model.fit(X[split.train], y[split.train])
        vals.append(100 * (model.predict(X[split.val]) == y[split.val]).mean())
        tests.append(100 * (model.predict(X[split.test]) == y[split.test]).mean())
    print(f"{name}: val {np.mean(vals):.1f} ± {np.std(vals):.1f} ({', '.join(f'{v:.1f}' for v in vals)}); "
          f"test {np.mean(tests):.1f} ± {np.std(tests):.1f} ({', '.join(f'{v:.1f}' for v in tests)})",
          flush=True)
