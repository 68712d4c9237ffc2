"""The parts of a hyperspectral recipe that a run and the estimator build alike.

:func:`spectranet.hsi.pipeline.train` (run folders) and
:class:`spectranet.hsi.estimator.HSIClassifier` (arrays in memory) both turn an
:class:`~spectranet.config.HSIConfig` into a band reducer, training-patch transforms, model
arguments and the model's start through these functions, so that a preset means the same
recipe in both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from spectranet.config import HSIConfig
from spectranet.engine.optim import fit_options as engine_fit_options
from spectranet.engine.training import FitResult
from spectranet.errors import ConfigError
from spectranet.hsi.augment import make_augment
from spectranet.hsi.predictor import HSIPredictor
from spectranet.hsi.reduce import SpectralReducer, check_components_without_pca
from spectranet.hsi.spectral_svm import SVMMix, choose_neighbourhood, choose_weight
from spectranet.hsi.stem_init import init_stem_pca

__all__ = ["resolve_components", "model_kwargs", "make_reducer", "training_transforms",
           "start_model", "kept_epoch", "fit_options", "fit_svm", "settle_svm_weight",
           "TrainedModel"]


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """One model trained by the recipe: the predictor (SVM weight settled) and its schedule.

    Attributes
    ----------
    predictor : HSIPredictor
    result : FitResult
        The engine's record of the fit (history, kept epoch, seconds).
    epochs, steps : int
        Epochs trained, and optimisation steps (epochs x batches per epoch).
    val_part : tuple of ndarray or None, default None
        With an SVM mix: (validation pixel ids, the CNN's probabilities, the SVM's) on them.
    chosen : dict, default {}
        The SVM weight's choice on validation, for ``metrics.json`` (empty without one).
    """

    predictor: HSIPredictor
    result: FitResult
    epochs: int
    steps: int
    val_part: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    chosen: dict[str, Any] = dataclasses.field(default_factory=dict)


def resolve_components(config: HSIConfig, n_bands: int, source: str) -> HSIConfig:
    """``config`` with ``components`` checked against a cube of ``n_bands`` bands.

    ``"all"`` becomes ``n_bands``; ``source`` names the cube in messages.

    Raises
    ------
    ConfigError
        More components than bands, or, without PCA, fewer.
    """
    if config.components == "all":
        return dataclasses.replace(config, components=int(n_bands))
    if config.components > n_bands:
        raise ConfigError(f"components must be <= the cube's {n_bands} bands ({source}), "
                          f"got {config.components}")
    if not config.pca:
        check_components_without_pca(config.components, n_bands)
    return config


def model_kwargs(config: HSIConfig, n_classes: int) -> dict[str, Any]:
    """Keyword arguments of :func:`~spectranet.hsi.models.build_model` (resolved config)."""
    kwargs: dict[str, Any] = {"bands": config.components, "window": config.window,
                              "n_classes": n_classes}
    if config.dropout is not None:  # else the model's own default
        kwargs["dropout"] = config.dropout
    return kwargs


def make_reducer(config: HSIConfig) -> SpectralReducer:
    """The unfitted band reducer of the recipe (PCA or not, unit length or not)."""
    return SpectralReducer(n_components=config.components, pca=config.pca,
                           unit_norm=config.unit_norm)


def training_transforms(config: HSIConfig) -> Callable[..., Any] | None:
    """Augmentation of training patches (flips, spectral shifts and noise), or None."""
    return make_augment(flips=config.flips, spectral_noise=config.spectral_noise,
                        spectral_shift=config.spectral_shift)


def kept_epoch(config: HSIConfig) -> str:
    """The engine's ``keep``: "last" under ``validation = "monitor"``, else "best"."""
    return "last" if config.validation == "monitor" else "best"


def start_model(config: HSIConfig, model: nn.Module, reduced: np.ndarray,
                train: np.ndarray) -> None:
    """Start a freshly built model as the recipe says, in place (``stem_init``).

    Parameters
    ----------
    config : HSIConfig
        Resolved (:func:`resolve_components`).
    model : torch.nn.Module
        Built from :func:`model_kwargs`, not yet trained.
    reduced : ndarray, shape (rows, cols, components)
        The reduced cube the model will see.
    train : ndarray of int
        Flat indices of the training pixels (``stem_init="pca"`` fits on their spectra only).
    """
    if config.stem_init == "pca":
        init_stem_pca(model, reduced.reshape(-1, reduced.shape[-1])[train])


def fit_options(config: HSIConfig, model: nn.Module, train_labels: np.ndarray,
                n_classes: int, *, batches_per_epoch: int) -> dict[str, Any]:
    """The recipe's keyword arguments of :func:`spectranet.engine.training.fit`.

    The engine's :func:`~spectranet.engine.optim.fit_options` (optimizer, epochs or steps,
    schedule, loss, mixup) and the kept epoch (:func:`kept_epoch`).
    """
    return engine_fit_options(config, model, train_labels, n_classes,
                              batches_per_epoch=batches_per_epoch) | {"keep": kept_epoch(config)}


def fit_svm(config: HSIConfig, cube: np.ndarray, labels: np.ndarray, train: np.ndarray,
            val: np.ndarray, seed: int) -> tuple[SVMMix | None, dict[str, Any]]:
    """The recipe's spectral SVM member (``svm_weight`` > 0 or "auto"), fitted on ``train``.

    ``svm_neighbourhood="auto"`` picks the window of its mean spectra on the ``val`` pixels
    (:func:`~spectranet.hsi.spectral_svm.choose_neighbourhood`); ``svm_weight="auto"`` leaves
    the weight at one half until :func:`settle_svm_weight` chooses it with the trained CNN.

    Parameters
    ----------
    config : HSIConfig
    cube : ndarray, shape (H, W, bands)
        The scene's cube as read (the SVM scales spectra itself).
    labels : int ndarray, shape (H, W)
        Class index 0..K-1, -1 = unlabelled.
    train, val : int ndarray
        Flat indices of the training and validation pixels.
    seed : int >= 0

    Returns
    -------
    svm : SVMMix or None
        None when the recipe has no SVM.
    record : dict
        What was chosen on which pixels (empty without a choice), for ``metrics.json``.
    """
    if not config.svm_weight:
        return None, {}
    record: dict[str, Any] = {}
    size = config.svm_neighbourhood
    if size == "auto":
        size, scores = choose_neighbourhood(cube, labels, train, val, seed=seed)
        record["neighbourhood_val_accuracy"] = {str(k): v for k, v in scores.items()}
    weight = 0.5 if config.svm_weight == "auto" else config.svm_weight
    return SVMMix.fit(cube, labels, train, weight=weight, seed=seed, neighbourhood=size), record


def settle_svm_weight(config: HSIConfig, svm: SVMMix, cnn_val: np.ndarray, svm_val: np.ndarray,
                      y_val: np.ndarray) -> tuple[SVMMix, dict[str, Any]]:
    """``svm`` with the recipe's weight, chosen with the trained CNN where the recipe says so.

    The configured weight, or under ``svm_weight="auto"`` the one that scores best on the
    validation pixels with the trained CNN's probabilities
    (:func:`~spectranet.hsi.spectral_svm.choose_weight`).

    Returns the SVM and a record of the choice (empty without one) for ``metrics.json``.
    """
    if config.svm_weight != "auto":
        return svm, {}
    weight, scores = choose_weight(cnn_val, svm_val, y_val)
    return svm.with_weight(weight), {"weight_val_accuracy": {f"{k:.1f}": v
                                                             for k, v in scores.items()}}
