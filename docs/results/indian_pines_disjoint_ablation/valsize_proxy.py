"""Does a smaller validation share steady the disjoint protocol? Proxy: the pixel RBF SVM.

Blocked split (window 11, block 40, test 30 %), seeds 0-7, validation share of all kept
pixels 0.35 (the protocol's default: the 70 % halved), 0.21 (`val_fraction` 0.3), 0.175
(0.25), 0.14 (0.2) and 0.1. Features: unit-length
spectra, standardised on the training pixels (as `--preset standard`). SVM C = 100, gamma
"scale", fitted on the training pixels; test OA and, for reference, validation OA.
Run: SPECTRANET_DATA=... python valsize_proxy.py > valsize_proxy.txt
"""
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split

scene = load_scene("indian_pines")
labels, y = scene.labels, scene.labels.ravel()
X = scene.cube.reshape(labels.size, -1).astype(np.float64)
X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
for val_size in (0.35, 0.21, 0.175, 0.14, 0.1):
    test_oa, val_oa, n_train, n_val, missing = [], [], [], [], []
    for seed in range(8):
        split = disjoint_split(labels, window=11, val_size=val_size, seed=seed, block=40)
        Z = StandardScaler().fit(X[split.train]).transform(X)
        model = SVC(C=100, gamma="scale").fit(Z[split.train], y[split.train])
        test_oa.append(100 * (model.predict(Z[split.test]) == y[split.test]).mean())
        val_oa.append(100 * (model.predict(Z[split.val]) == y[split.val]).mean())
        n_train.append(split.train.size)
        n_val.append(split.val.size)
        missing.append(len(split.info["missing"]))
    t = np.array(test_oa)
    first3 = t[:3]
    print(f"val share {val_size}: train / val pixels {np.mean(n_train):.0f} / {np.mean(n_val):.0f}, "
          f"classes missing from a set {min(missing)}-{max(missing)}; "
          f"test OA {t.mean():.1f} ± {t.std():.1f} [min {t.min():.1f}, max {t.max():.1f}] "
          f"(seeds 0-2: {' / '.join(f'{v:.1f}' for v in first3)}, spread "
          f"{first3.max() - first3.min():.1f}); val OA {np.mean(val_oa):.1f} ± {np.std(val_oa):.1f}",
          flush=True)
