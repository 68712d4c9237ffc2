"""A spectral SVM: an RBF support-vector machine on each pixel's unit-length spectrum.

Not in the paper. It sees one pixel, no neighbourhood, so it makes other errors than the patch
CNNs: in the leakage-free ablation, half and half with the mean of three CNNs
(:func:`spectranet.hsi.ensemble.ensemble`, ``svm_weight=0.5``) was better than either on the
validation regions of every split (docs/results/indian_pines_disjoint_ablation/mixed_proxy.txt,
measured with scikit-learn's older ``SVC(probability=True)`` calibration).

:class:`SVMMix` is the SVM as part of a run's model (``svm_weight``): fitted on the run's
training pixels, its probabilities mixed into the CNN's. A checkpoint stores the SVM as data,
its training spectra and labels, and :meth:`SVMMix.from_state` fits it again (deterministic);
no fitted object is pickled. Its two settings can be chosen on a run's validation pixels
(:func:`choose_neighbourhood`, :func:`choose_weight`): with ``neighbourhood`` > 1 it sees the
mean spectrum of a ``neighbourhood x neighbourhood`` window around each pixel instead of the
pixel alone (spatial-spectral, still no label of a neighbour).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.ndimage import uniform_filter
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.reduce import unit_normalise

__all__ = ["fit_spectral_svm", "spectral_svm_proba", "check_svm_training", "neighbourhood_mean",
           "choose_neighbourhood", "choose_weight", "NEIGHBOURHOODS", "WEIGHTS", "SVMMix"]

#: The SVM's regularisation (the ablation's value, not tuned further).
_C = 100.0
#: The candidates of :func:`choose_neighbourhood` (pixels per side) and :func:`choose_weight`.
NEIGHBOURHOODS = (1, 3, 5, 7)
WEIGHTS = tuple(k / 10 for k in range(11))


def neighbourhood_mean(cube: np.ndarray, size: int) -> np.ndarray:
    """Mean spectrum of the ``size x size`` window centred on each pixel, float32 (H, W, bands).

    Borders are mirrored (``scipy.ndimage.uniform_filter``, mode "reflect"); ``size`` 1 gives
    the cube itself (as float32). Every pixel in the window counts, labelled or not: the mean
    uses spectra, never labels.

    Parameters
    ----------
    cube : ndarray, shape (H, W, bands), real
    size : odd int >= 1, pixels
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1 \
            or size % 2 == 0:
        raise ConfigError(f"neighbourhood must be an odd integer >= 1, got {size!r}")
    cube = np.asarray(cube, dtype=np.float32)
    return cube if size == 1 else uniform_filter(cube, size=(size, size, 1), mode="reflect")


def choose_neighbourhood(cube: np.ndarray, labels: np.ndarray, train: np.ndarray,
                         val: np.ndarray, *, sizes: Sequence[int] = NEIGHBOURHOODS,
                         seed: int = 0) -> tuple[int, dict[int, float]]:
    """The window of the SVM's mean spectra that scores best on validation pixels.

    One SVM per size is fitted on the ``train`` pixels and scored on the ``val`` pixels
    (overall accuracy); ties go to the smaller window.

    Parameters
    ----------
    cube : ndarray, shape (H, W, bands)
    labels : int ndarray, shape (H, W)
        Class index 0..K-1, -1 = unlabelled.
    train, val : int ndarray
        Flat pixel indices; ``val`` must not be empty.
    sizes : sequence of odd int, default (1, 3, 5, 7)
    seed : int >= 0, default 0

    Returns
    -------
    size : int
    scores : dict of int to float
        Validation accuracy of each size.
    """
    if len(val) == 0:
        raise ConfigError("choosing the SVM's neighbourhood needs validation pixels, got none")
    y, n_classes = labels.ravel(), int(labels.max()) + 1
    scores = {}
    for size in sizes:
        features = neighbourhood_mean(cube, size)
        model = fit_spectral_svm(features, labels, train, seed=seed)
        pred = spectral_svm_proba(model, features, val, n_classes).argmax(1)
        scores[int(size)] = float(np.mean(pred == y[val]))
    best = max(scores.values())
    return min(k for k, v in scores.items() if v == best), scores


def choose_weight(cnn_proba: np.ndarray, svm_proba: np.ndarray, y: np.ndarray, *,
                  weights: Sequence[float] = WEIGHTS) -> tuple[float, dict[float, float]]:
    """The SVM's share of the mix that scores best on validation pixels.

    Each weight ``w`` classifies the pixels by ``(1 - w) * cnn_proba + w * svm_proba``; the
    highest overall accuracy wins; ties go to the weight nearest one half (then the smaller),
    the middle of a plateau rather than its edge.

    Parameters
    ----------
    cnn_proba, svm_proba : float ndarray, shape (N, K)
        The CNN's and the SVM's class probabilities of the same N validation pixels.
    y : int ndarray, shape (N,)
        Their class indices.
    weights : sequence of float in [0, 1], default 0, 0.1, ..., 1

    Returns
    -------
    weight : float
    scores : dict of float to float
        Validation accuracy of each weight.
    """
    if len(y) == 0:
        raise ConfigError("choosing the SVM's weight needs validation pixels, got none")
    scores = {float(w): float(np.mean(((1 - w) * cnn_proba + w * svm_proba).argmax(1) == y))
              for w in weights}
    best = max(scores.values())
    return min((w for w, v in scores.items() if v == best), key=lambda w: (abs(w - 0.5), w)), \
        scores


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
        a class has fewer than 5; a class with a single pixel has it twice, in two folds)
        (:class:`~sklearn.calibration.CalibratedClassifierCV`, ``ensemble=False``).
    """
    spectra = cube.reshape(-1, cube.shape[-1])[pixels]
    return _fit_spectra(spectra, labels.ravel()[pixels], C=C, seed=seed)


def _fit_spectra(x: np.ndarray, y: np.ndarray, *, C: float, seed: int) -> Pipeline:
    """:func:`fit_spectral_svm` on spectra (N, bands) and their class indices (N,)."""
    if not C > 0:
        raise ConfigError(f"C must be a number > 0, got {C!r}")
    check_svm_training(y)
    lone = np.flatnonzero(np.isin(y, np.flatnonzero(np.bincount(y) == 1)))
    if lone.size:  # the calibration folds need two pixels of a class: a lone one counts twice
        x, y = np.concatenate([x, x[lone]]), np.concatenate([y, y[lone]])
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


def check_svm_training(y: np.ndarray) -> None:
    """Check the class indices of the spectral SVM's training pixels before it is fitted.

    Parameters
    ----------
    y : int ndarray, shape (N,)
        Class index 0..K-1 of each training pixel.

    Raises
    ------
    DataError
        No pixel, or an unlabelled one (< 0).
    """
    if y.size == 0 or (y < 0).any():
        raise DataError("the spectral SVM's training pixels must be labelled, and at least one")


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
    weight : float in [0, 1]
        The SVM's share of the mixed probabilities (0: the CNN alone, e.g. when chosen so on
        validation).
    spectra : float32 ndarray, shape (N, bands)
        What the SVM trained on: the training pixels' spectra as in the cube, or their
        neighbourhood means (the SVM scales them itself).
    labels : int64 ndarray, shape (N,)
        Their class indices 0..K-1.
    seed : int >= 0
        Seeds the SVM's calibration folds.
    model : sklearn.pipeline.Pipeline
        The fitted SVM (:func:`fit_spectral_svm`).
    neighbourhood : odd int >= 1, default 1
        The SVM sees each pixel's mean spectrum over this window (:func:`neighbourhood_mean`);
        1 = the pixel alone.
    """

    weight: float
    spectra: np.ndarray
    labels: np.ndarray
    seed: int
    model: Pipeline
    neighbourhood: int = 1

    @classmethod
    def fit(cls, cube: np.ndarray, labels: np.ndarray, pixels: np.ndarray, *, weight: float,
            seed: int = 0, neighbourhood: int = 1) -> SVMMix:
        """Fit the SVM on some labelled pixels of a scene (as :func:`fit_spectral_svm`).

        ``cube`` (H, W, bands) and ``labels`` (H, W, -1 = unlabelled) are the scene's;
        ``pixels`` the flat indices of the training pixels.
        """
        _check_weight(weight)
        features = neighbourhood_mean(cube, neighbourhood)
        spectra = np.asarray(features.reshape(-1, cube.shape[-1])[pixels], dtype=np.float32)
        y = np.asarray(labels.ravel()[pixels], dtype=np.int64)
        return cls(float(weight), spectra, y, int(seed),
                   _fit_spectra(spectra, y, C=_C, seed=int(seed)), int(neighbourhood))

    def with_weight(self, weight: float) -> SVMMix:
        """The same SVM with another share of the mix."""
        _check_weight(weight)
        return dataclasses.replace(self, weight=float(weight))

    def to_state(self) -> dict[str, Any]:
        """Tensors and numbers only (a checkpoint's ``weights_only`` load accepts them)."""
        return {"weight": self.weight, "seed": self.seed, "C": _C,
                "neighbourhood": self.neighbourhood,
                "spectra": torch.from_numpy(self.spectra),
                "labels": torch.from_numpy(self.labels)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SVMMix:
        """The SVM of :meth:`to_state`, fitted again on the stored pixels: the same model."""
        spectra, y = state["spectra"].numpy(), state["labels"].numpy()
        return cls(float(state["weight"]), spectra, y, int(state["seed"]),
                   _fit_spectra(spectra, y, C=float(state["C"]), seed=int(state["seed"])),
                   int(state.get("neighbourhood", 1)))  # absent before neighbourhoods existed

    def features(self, cube: np.ndarray) -> np.ndarray:
        """What the SVM sees of each pixel of ``cube``, float32 (H, W, bands)."""
        return neighbourhood_mean(cube, self.neighbourhood)

    def proba(self, spectra: np.ndarray, n_classes: int) -> np.ndarray:
        """The SVM's class probabilities, float64, shape (..., ``n_classes``).

        ``spectra`` (..., bands) as :meth:`features` gives them; classes it never trained on
        get 0.
        """
        flat = _proba(self.model, spectra.reshape(-1, spectra.shape[-1]), n_classes)
        return flat.reshape(*spectra.shape[:-1], n_classes)

    def pixel_proba(self, cube: np.ndarray, pixels: np.ndarray, n_classes: int) -> np.ndarray:
        """The SVM's class probabilities of some pixels of ``cube`` (flat indices), (N, K)."""
        features = self.features(cube)
        return self.proba(features.reshape(-1, features.shape[-1])[pixels], n_classes)

    def mix_pixels(self, cnn_proba: np.ndarray, cube: np.ndarray,
                   pixels: np.ndarray) -> np.ndarray:
        """Mixed probabilities (N, K) of some pixels of ``cube`` whose CNN scores are given."""
        return self.combine(cnn_proba, self.pixel_proba(cube, pixels, cnn_proba.shape[-1]))

    def mix_map(self, cnn_proba: np.ndarray, cube: np.ndarray) -> np.ndarray:
        """Mixed probabilities (H, W, K) of every pixel of ``cube`` (H, W, bands)."""
        return self.combine(cnn_proba, self.proba(self.features(cube), cnn_proba.shape[-1]))

    def combine(self, cnn_proba: np.ndarray, svm_proba: np.ndarray) -> np.ndarray:
        """``(1 - weight) * cnn_proba + weight * svm_proba``: both of one shape (..., K)."""
        return (1 - self.weight) * cnn_proba + self.weight * svm_proba


def _check_weight(weight: Any) -> None:
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ConfigError(f"weight must be a number in [0, 1], got {weight!r}")
