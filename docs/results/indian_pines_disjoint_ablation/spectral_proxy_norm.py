import numpy as np
from sklearn.svm import SVC
from sklearn.linear_model import LogisticRegression
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.disjoint import disjoint_split
scene = load_scene("indian_pines")
labels = scene.labels; y = labels.ravel()
R = scene.cube.reshape(-1, scene.cube.shape[-1]).astype(np.float64)
R = R - R.min() + 1.0
feats = {
    "bands": R,
    "l2norm": R / np.linalg.norm(R, axis=1, keepdims=True),
    "log": np.log(R),
    "diff": np.diff(R, axis=1),
    "diff_l2": np.diff(R / np.linalg.norm(R, axis=1, keepdims=True), axis=1),
    "logdiff": np.diff(np.log(R), axis=1),
    "bands+l2": np.hstack([R, R / np.linalg.norm(R, axis=1, keepdims=True)]),
}
res = {}
for seed in (0, 1, 2):
    s = disjoint_split(labels, window=11, val_size=0.35, seed=seed, block=40)
    for name, X in feats.items():
        for cname, clf in (("svm100", SVC(C=100, gamma="scale")), ("svm1000", SVC(C=1000, gamma="scale")),
                           ("lda", LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))):
            m = make_pipeline(StandardScaler(), clf).fit(X[s.train], y[s.train])
            v = 100 * (m.predict(X[s.val]) == y[s.val]).mean()
            te = 100 * (m.predict(X[s.test]) == y[s.test]).mean()
            res.setdefault((name, cname), []).append((v, te))
for k, r in res.items():
    r = np.array(r)
    print(f"{k[0]:10s} {k[1]:8s} val {r[:,0].mean():5.1f} ({' '.join(f'{x:.1f}' for x in r[:,0])})  test {r[:,1].mean():5.1f}")
