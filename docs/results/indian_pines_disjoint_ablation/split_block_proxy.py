"""Protocol granularity (issue 13): how the block size of the disjoint split moves a fixed proxy
classifier (RBF SVM, C=100, on each pixel's L2-normalised spectrum, standardised on training
pixels), 8 split seeds per block, window 11 buffers. Kept = labelled pixels left in train + val
+ test after buffers. Missing = (set, class index 0-15) absent in some seed."""
import numpy as np
from sklearn.svm import SVC
from sklearn.preprocessing import StandardScaler
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
scene = load_scene("indian_pines")
labels = scene.labels; y = labels.ravel()
R = scene.cube.reshape(-1, scene.cube.shape[-1]).astype(np.float64)
X0 = R / np.linalg.norm(R, axis=1, keepdims=True)
for block in (20, 25, 30, 40):
    vs, ts, kept, miss = [], [], [], set()
    for seed in range(8):
        s = disjoint_split(labels, window=11, val_size=0.35, seed=seed, block=block)
        sc = StandardScaler().fit(X0[s.train]); X = sc.transform(X0)
        m = SVC(C=100, gamma="scale").fit(X[s.train], y[s.train])
        vs.append(100 * (m.predict(X[s.val]) == y[s.val]).mean()); ts.append(100 * (m.predict(X[s.test]) == y[s.test]).mean())
        kept.append(len(s.train) + len(s.val) + len(s.test))
        for name in ("train", "val", "test"):
            present = set(np.unique(y[getattr(s, name)]))
            miss |= {(name, c) for c in set(np.unique(y[y >= 0])) - present}
    vs, ts = np.array(vs), np.array(ts)
    f = lambda a: f"{a.mean():.1f} ± {a.std():.1f} [{a.min():.1f}, {a.max():.1f}] 3-seed spread {np.ptp(a[:3]):.1f}"
    print(f"block {block}: kept {np.mean(kept):.0f}; val {f(vs)}; test {f(ts)}; missing {sorted((n, int(c)) for n, c in miss)}", flush=True)
