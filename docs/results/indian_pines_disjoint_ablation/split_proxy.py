"""How much of the disjoint protocol's seed-to-seed spread comes from the split itself.

A cheap proxy classifier (random forest, 200 trees, on the PCA spectrum of the centre pixel and
the 3 x 3 mean; PCA and scaling fitted on training pixels only) is trained on many seeds of each
split variant; its OA spread on validation and test regions measures the split's own variance.
Seconds per seed, no CNN. Usage: python split_proxy.py > split_proxy.txt
"""

import numpy as np
from scipy import ndimage
from sklearn.ensemble import RandomForestClassifier

from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.reduce import SpectralReducer

SEEDS = range(8)
import sys
VARIANTS = [tuple(None if v == "None" else int(v) for v in a.split(",")) for a in sys.argv[1:]] or [(11, None), (9, None), (9, 40), (11, 40)]

scene = load_scene("indian_pines")
labels = scene.labels
print("window block | kept px (train/val/test) | val OA mean+-std [min,max] | "
      "test OA mean+-std [min,max]")
for window, block in VARIANTS:
    vals, tests, sizes = [], [], []
    for seed in SEEDS:
        split = disjoint_split(labels, window=window, val_size=0.35, seed=seed, block=block)
        mask = np.zeros(labels.size, bool)
        mask[split.train] = True
        cube = SpectralReducer(n_components=20).fit(scene.cube, mask=mask.reshape(labels.shape)) \
            .transform(scene.cube)
        feats = np.concatenate([cube, ndimage.uniform_filter(cube, size=(3, 3, 1))], axis=2)
        feats = feats.reshape(labels.size, -1)
        y = labels.ravel()
        rf = RandomForestClassifier(200, n_jobs=1, random_state=seed)
        rf.fit(feats[split.train], y[split.train])
        vals.append((rf.predict(feats[split.val]) == y[split.val]).mean())
        tests.append((rf.predict(feats[split.test]) == y[split.test]).mean())
        sizes.append((len(split.train), len(split.val), len(split.test)))
    v, t, s = 100 * np.array(vals), 100 * np.array(tests), np.mean(sizes, 0)
    print(f"{window} {block} | {s.sum():.0f} ({s[0]:.0f}/{s[1]:.0f}/{s[2]:.0f}) | "
          f"{v.mean():.1f} +- {v.std():.1f} [{v.min():.1f}, {v.max():.1f}] | "
          f"{t.mean():.1f} +- {t.std():.1f} [{t.min():.1f}, {t.max():.1f}]", flush=True)
