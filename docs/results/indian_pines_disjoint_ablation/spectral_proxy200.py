"""Seed 0 only: SVM on the pipeline's own reduction (PCA on raw bands, then per-component scaling)
at 20 / 200 components, against standardised bands. Validation is the number used."""
import time
import numpy as np
from sklearn.svm import SVC
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.reduce import SpectralReducer
from sklearn.preprocessing import StandardScaler
scene = load_scene("indian_pines")
labels, y = scene.labels, scene.labels.ravel()
split = disjoint_split(labels, window=11, val_size=0.35, seed=0, block=40)
mask = np.zeros(labels.size, bool); mask[split.train] = True
for comps in (20, 200, None):
    t = time.time()
    if comps:
        X = SpectralReducer(comps).fit(scene.cube, mask=mask.reshape(labels.shape)).transform(scene.cube).reshape(labels.size, -1)
    else:
        X = scene.cube.reshape(labels.size, -1).astype(np.float64)
        X = StandardScaler().fit(X[split.train]).transform(X)
    m = SVC(C=100, gamma="scale").fit(X[split.train], y[split.train])
    v = 100 * (m.predict(X[split.val]) == y[split.val]).mean()
    te = 100 * (m.predict(X[split.test]) == y[split.test]).mean()
    print(f"{'pipeline PCA %d scaled' % comps if comps else 'standardised bands'}: val {v:.1f} test {te:.1f} ({time.time()-t:.0f} s)", flush=True)
