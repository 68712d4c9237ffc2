"""A spectral SVM: an RBF support-vector machine on each pixel's unit-length spectrum.

Not in the paper. It sees one pixel, no neighbourhood, so it makes other errors than the patch
CNNs: in the leakage-free ablation, half and half with the mean of three CNNs
(:func:`spectranet.hsi.ensemble.ensemble`, ``svm_weight=0.5``) was better than either on the
validation regions of every split (docs/results/indian_pines_disjoint_ablation/mixed_proxy.txt,
measured with scikit-learn's older ``SVC(probability=True)`` calibration).
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.reduce import unit_normalise

__all__ = ["fit_spectral_svm", "spectral_svm_proba"]


def fit_spectral_svm(cube: np.ndarray, labels: np.ndarray, pixels: np.ndarray, *,
                     C: float = 100.0, seed: int = 0) -> Pipeline:
    """Fit the spectral SVM on some labelled pixels of a scene.

    Parameters
    ----------
    cube : ndarray, shape (H, W, bands), real
    labels : int ndarray, shape (H, W)
        Class index 0..K-1 per pixel, -1 = unlabelled.
    pixels : int ndarray, shape (N,)
        Flat indices ``r * W + c`` of the training pixels, all labelled.
    C : float > 0, default 100
        The SVM's regularisation (RBF kernel, ``gamma="scale"``).
    seed : int >= 0, default 0
        Seeds the folds of the probability calibration.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unit length per spectrum, standardisation on the training pixels, then the SVM with
        sigmoid (Platt) probabilities calibrated on 5 folds of the training pixels (fewer when
        a class has fewer than 5; at least 2 pixels per class)
        (:class:`~sklearn.calibration.CalibratedClassifierCV`, ``ensemble=False``).
    """
    if not C > 0:
        raise ConfigError(f"C must be a number > 0, got {C!r}")
    y = labels.ravel()[pixels]
    if y.size == 0 or (y < 0).any():
        raise DataError("the spectral SVM's training pixels must be labelled, and at least one")
    counts = np.bincount(y)
    present = np.flatnonzero(counts)
    rare = present[np.argmin(counts[present])]
    if counts[rare] < 2:
        raise DataError(f"class index {rare} has 1 training pixel; the spectral SVM calibrates "
                        "its probabilities on folds and needs at least 2 per class")
    x = cube.reshape(-1, cube.shape[-1])[pixels]
    # scikit-learn's replacement for SVC(probability=True), deprecated in 1.9
    folds = StratifiedKFold(min(5, int(counts[rare])), shuffle=True, random_state=seed)
    svm = CalibratedClassifierCV(SVC(C=C, gamma="scale", random_state=seed), method="sigmoid",
                                 cv=folds, ensemble=False)
    model = make_pipeline(FunctionTransformer(unit_normalise), StandardScaler(), svm)
    return model.fit(x, y)


def spectral_svm_proba(model: Pipeline, cube: np.ndarray, pixels: np.ndarray,
                       n_classes: int) -> np.ndarray:
    """Class probabilities of some pixels, float64, shape (N, ``n_classes``).

    Classes the SVM never saw in training get probability 0.
    """
    proba = model.predict_proba(cube.reshape(-1, cube.shape[-1])[pixels])
    out = np.zeros((len(pixels), n_classes))
    out[:, model.classes_] = proba
    return out
