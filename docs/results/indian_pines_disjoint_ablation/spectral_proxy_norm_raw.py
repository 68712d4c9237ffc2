"""Proxy check of --unit-norm exactly as SpectralReducer applies it (no shift of the cube).

spectral_proxy_norm.py normalised R - R.min() + 1; --unit-norm divides the raw spectrum. Same
RBF SVM (C = 100, gamma "scale") on the centre pixel, same regions (window 11, block 40),
seeds 0-2; standardised on the training pixels.
"""

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.reduce import unit_normalise

scene = load_scene("indian_pines")
labels = scene.labels
y = labels.ravel()
R = scene.cube.reshape(-1, scene.cube.shape[-1]).astype(np.float64)
print(f"cube values in [{R.min():.0f}, {R.max():.0f}]")
feats = {"bands": R, "unit_norm (raw)": unit_normalise(R),
         "unit_norm (shifted, as spectral_proxy_norm)": unit_normalise(R - R.min() + 1.0)}
res: dict[str, list] = {}
for seed in (0, 1, 2):
    s = disjoint_split(labels, window=11, val_size=0.35, seed=seed, block=40)
    for name, X in feats.items():
        m = make_pipeline(StandardScaler(), SVC(C=100, gamma="scale")).fit(X[s.train], y[s.train])
        res.setdefault(name, []).append((100 * (m.predict(X[s.val]) == y[s.val]).mean(),
                                         100 * (m.predict(X[s.test]) == y[s.test]).mean()))
for name, r in res.items():
    a = np.array(r)
    print(f"{name:45s} val {a[:, 0].mean():5.1f} ({' '.join(f'{x:.1f}' for x in a[:, 0])})  "
          f"test {a[:, 1].mean():5.1f} ({' '.join(f'{x:.1f}' for x in a[:, 1])})")
