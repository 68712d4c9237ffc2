import sys, time
import numpy as np
from scipy.ndimage import uniform_filter
from sklearn.svm import SVC
from sklearn.preprocessing import StandardScaler
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
scene = load_scene("indian_pines")
labels = scene.labels; y = labels.ravel()
cube = scene.cube.astype(np.float64)
H, W, B = cube.shape
for seed in (0, 1, 2):
    s = disjoint_split(labels, window=11, val_size=0.35, seed=seed, block=40)
    s2 = disjoint_split(labels, window=11, val_size=0.175, seed=seed, block=40)
    print(f"seed {seed}: test same with val 0.175: {np.array_equal(np.sort(s.test), np.sort(s2.test))}; train {len(s.train)} val {len(s.val)} test {len(s.test)}; train2 {len(s2.train)} val2 {len(s2.val)}")
    sc = StandardScaler().fit(cube.reshape(-1, B)[s.train])
    z = sc.transform(cube.reshape(-1, B)).reshape(H, W, B)
    feats = {"centre": z}
    for k in (3, 5, 7):
        feats[f"mean{k}"] = uniform_filter(z, size=(k, k, 1), mode="reflect")
    feats["centre+mean5"] = np.concatenate([z, feats["mean5"]], -1)
    for name, f in feats.items():
        X = f.reshape(H * W, -1)
        t = time.time()
        m = SVC(C=100, gamma="scale").fit(X[s.train], y[s.train])
        v = 100 * (m.predict(X[s.val]) == y[s.val]).mean()
        te = 100 * (m.predict(X[s.test]) == y[s.test]).mean()
        print(f"  {name:14s} val {v:5.1f} test {te:5.1f} ({time.time()-t:.0f}s)", flush=True)
    rng = np.random.default_rng(seed)
    X = z.reshape(H * W, -1)
    for frac in (0.25, 0.5):
        sub = rng.permutation(s.train)[: int(frac * len(s.train))]
        m = SVC(C=100, gamma="scale").fit(X[sub], y[sub])
        print(f"  centre, {frac:.0%} of train: val {100*(m.predict(X[s.val])==y[s.val]).mean():5.1f}", flush=True)
