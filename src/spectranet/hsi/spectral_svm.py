"""A spectral SVM: an RBF support-vector machine on each pixel's unit-length spectrum.

Not in the paper. It sees one pixel, no neighbourhood, so it makes other errors than the patch
CNNs: in the leakage-free ablation, half and half with the mean of three CNNs
(:func:`spectranet.hsi.ensemble.ensemble`, ``svm_weight=0.5``) was better than either on the
validation regions of every split (docs/results/indian_pines_disjoint_ablation/mixed_proxy.txt,
measured with scikit-learn's older ``SVC(probability=True)`` calibration).

:class:`SVMMix` is the SVM as part of a run's model (``svm_weight``): fitted on the run's
training pixels, its probabilities mixed into the CNN's. A checkpoint stores the SVM as data,
its training spectra and labels, and :meth:`SVMMix.from_state` fits it again (deterministic);
no fitted object is pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.reduce import unit_normalise

__all__ = ["fit_spectral_svm", "spectral_svm_proba", "check_svm_training", "SVMMix"]

#: The SVM's regularisation (the ablation's value, not tuned further).
_C = 100.0


def fit_spectral_svm(cube: np.ndarray, labels: np.ndarray, pixels: np.ndarray, *,
                     C: float = _C, seed: int = 0) -> Pipeline:
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
    spectra = cube.reshape(-1, cube.shape[-1])[pixels]
    return _fit_spectra(spectra, labels.ravel()[pixels], C=C, seed=seed)


def _fit_spectra(x: np.ndarray, y: np.ndarray, *, C: float, seed: int) -> Pipeline:
    """:func:`fit_spectral_svm` on spectra (N, bands) and their class indices (N,)."""
    if not C > 0:
        raise ConfigError(f"C must be a number > 0, got {C!r}")
    check_svm_training(y)
    counts = np.bincount(y)
    rare = int(counts[counts > 0].min())
    # scikit-learn's replacement for SVC(probability=True), deprecated in 1.9
    folds = StratifiedKFold(min(5, rare), shuffle=True, random_state=seed)
    svm = CalibratedClassifierCV(SVC(C=C, gamma="scale", random_state=seed), method="sigmoid",
                                 cv=folds, ensemble=False)
    model = make_pipeline(FunctionTransformer(unit_normalise), StandardScaler(), svm)
    return model.fit(x, y)


def spectral_svm_proba(model: Pipeline, cube: np.ndarray, pixels: np.ndarray,
                       n_classes: int) -> np.ndarray:
    """Class probabilities of some pixels, float64, shape (N, ``n_classes``).

    Classes the SVM never saw in training get probability 0.
    """
    return _proba(model, cube.reshape(-1, cube.shape[-1])[pixels], n_classes)


def check_svm_training(y: np.ndarray, class_names: Sequence[str] | None = None) -> None:
    """Check the class indices of the spectral SVM's training pixels before it is fitted.

    Parameters
    ----------
    y : int ndarray, shape (N,)
        Class index 0..K-1 of each training pixel.
    class_names : sequence of str, optional
        Names of the classes in messages (default ``class index k``).

    Raises
    ------
    DataError
        No pixel, an unlabelled one (< 0), or a class with a single training pixel: the SVM
        calibrates its probabilities on folds and needs at least 2 per class it trains on.
    """
    if y.size == 0 or (y < 0).any():
        raise DataError("the spectral SVM's training pixels must be labelled, and at least one")
    counts = np.bincount(y)
    single = np.flatnonzero(counts == 1)
    if single.size:
        k = int(single[0])
        name = f"class {class_names[k]}" if class_names is not None else f"class index {k}"
        raise DataError(f"{name} has 1 training pixel; the spectral SVM calibrates its "
                        "probabilities on folds and needs at least 2 per class")


def _proba(model: Pipeline, spectra: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(spectra), n_classes))
    out[:, model.classes_] = model.predict_proba(spectra)
    return out


@dataclass(frozen=True)
class SVMMix:
    """A spectral SVM mixed into a CNN: ``(1 - weight) * CNN + weight * SVM`` probabilities.

    Build it with :meth:`fit`; :meth:`to_state` and :meth:`from_state` carry it through a
    checkpoint.

    Attributes
    ----------
    weight : float in (0, 1]
        The SVM's share of the mixed probabilities.
    spectra : float32 ndarray, shape (N, bands)
        The training pixels' spectra, as in the cube (the SVM scales them itself).
    labels : int64 ndarray, shape (N,)
        Their class indices 0..K-1.
    seed : int >= 0
        Seeds the SVM's calibration folds.
    model : sklearn.pipeline.Pipeline
        The fitted SVM (:func:`fit_spectral_svm`).
    """

    weight: float
    spectra: np.ndarray
    labels: np.ndarray
    seed: int
    model: Pipeline

    @classmethod
    def fit(cls, cube: np.ndarray, labels: np.ndarray, pixels: np.ndarray, *, weight: float,
            seed: int = 0) -> SVMMix:
        """Fit the SVM on some labelled pixels of a scene (as :func:`fit_spectral_svm`).

        ``cube`` (H, W, bands) and ``labels`` (H, W, -1 = unlabelled) are the scene's;
        ``pixels`` the flat indices of the training pixels.
        """
        if isinstance(weight, bool) or not 0 < weight <= 1:
            raise ConfigError(f"weight must be a number in (0, 1], got {weight!r}")
        spectra = np.asarray(cube.reshape(-1, cube.shape[-1])[pixels], dtype=np.float32)
        y = np.asarray(labels.ravel()[pixels], dtype=np.int64)
        return cls(float(weight), spectra, y, int(seed), _fit_spectra(spectra, y, C=_C,
                                                                      seed=int(seed)))

    def to_state(self) -> dict[str, Any]:
        """Tensors and numbers only (a checkpoint's ``weights_only`` load accepts them)."""
        return {"weight": self.weight, "seed": self.seed, "C": _C,
                "spectra": torch.from_numpy(self.spectra),
                "labels": torch.from_numpy(self.labels)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SVMMix:
        """The SVM of :meth:`to_state`, fitted again on the stored pixels: the same model."""
        spectra, y = state["spectra"].numpy(), state["labels"].numpy()
        return cls(float(state["weight"]), spectra, y, int(state["seed"]),
                   _fit_spectra(spectra, y, C=float(state["C"]), seed=int(state["seed"])))

    def proba(self, spectra: np.ndarray, n_classes: int) -> np.ndarray:
        """The SVM's class probabilities, float64, shape (..., ``n_classes``).

        ``spectra`` (..., bands) as in the cube; classes it never trained on get 0.
        """
        flat = _proba(self.model, spectra.reshape(-1, spectra.shape[-1]), n_classes)
        return flat.reshape(*spectra.shape[:-1], n_classes)

    def mix(self, cnn_proba: np.ndarray, spectra: np.ndarray) -> np.ndarray:
        """Mixed class probabilities, float64, the shape of ``cnn_proba``.

        Parameters
        ----------
        cnn_proba : float ndarray, shape (..., K)
            The CNN's softmax outputs, e.g. (N, K) for pixels or (H, W, K) for a map.
        spectra : real ndarray, shape (..., bands)
            The same pixels' spectra, as in the cube.
        """
        return self.combine(cnn_proba, self.proba(spectra, cnn_proba.shape[-1]))

    def combine(self, cnn_proba: np.ndarray, svm_proba: np.ndarray) -> np.ndarray:
        """``(1 - weight) * cnn_proba + weight * svm_proba``: both of one shape (..., K)."""
        return (1 - self.weight) * cnn_proba + self.weight * svm_proba
