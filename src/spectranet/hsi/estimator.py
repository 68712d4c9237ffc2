"""scikit-learn-compatible hyperspectral classifier: ``fit(cube, label_map)``, ``predict(cube)``.

:class:`HSIClassifier` runs the library's steps in memory (no run folder): reducer, patches,
split, model registry, the engine's ``fit`` and batched full-scene inference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn.exceptions
from sklearn.base import BaseEstimator, ClassifierMixin

from spectranet import errors
from spectranet.config import HSIConfig, make_config
from spectranet.engine import training
from spectranet.engine.distributed import check_device
from spectranet.engine.precision import resolve_precision
from spectranet.errors import ConfigError, DataError
from spectranet.hsi.estimator_inputs import (
    check_cube,
    check_fraction,
    check_int,
    check_label_map,
    encode,
    holdout,
)
from spectranet.hsi.models import build_model
from spectranet.hsi.patches import PatchBatches, PatchDataset, check_window
from spectranet.hsi.predictor import HSIPredictor
from spectranet.hsi.recipe import (
    TrainedModel,
    fit_options,
    fit_svm,
    make_reducer,
    model_kwargs,
    resolve_components,
    settle_svm_weight,
    start_model,
    training_transforms,
)
from spectranet.hsi.reduce import SpectralReducer
from spectranet.hsi.self_training import Pool, self_train

__all__ = ["HSIClassifier"]

#: Constructor arguments that are :class:`~spectranet.config.HSIConfig` fields (None = preset).
_OPTIONS = ("window", "components", "model", "dropout", "optimizer", "lr", "batch_size",
            "epochs", "steps", "weight_decay", "scheduler", "class_weight", "precision", "device",
            "map_batch_size", "svm_weight", "svm_neighbourhood", "self_training")
_IN_MEMORY = "<in-memory>"  # HSIConfig wants a data source; the estimator is given arrays


class _NotFittedError(errors.NotFittedError, sklearn.exceptions.NotFittedError):
    """Used before ``fit``: both spectranet's NotFittedError and scikit-learn's."""


class HSIClassifier(ClassifierMixin, BaseEstimator):
    """Patch-based CNN classifier of a hyperspectral cube's pixels (Ahmad 2020 by default).

    ``fit`` reduces the bands (:class:`~spectranet.hsi.reduce.SpectralReducer` fitted on every
    pixel of the cube, as in the paper protocol: PCA then scaling with the ``paper`` preset),
    holds out ``validation_fraction`` of each class's labelled pixels to keep the best epoch
    (:func:`~spectranet.hsi.splits.random_split`; the ``standard`` preset keeps the last epoch
    and only scores them), and trains on ``window x window`` patches
    centred on the other labelled pixels. The preset's recipe beyond the listed options
    (reducer, flips, the stem's start) is built as a run builds it
    (:mod:`spectranet.hsi.recipe`). ``predict`` labels every pixel of a cube, border
    pixels included. Nothing is written to disk.

    Parameters
    ----------
    preset : {"paper", "standard", "quick"} or None, default "paper"
        Recipe the other options start from (``spectranet/presets/hsi_*.toml``); None = the
        defaults of :class:`~spectranet.config.HSIConfig`.
    window, components, model, dropout, optimizer, lr, batch_size, epochs : optional
        The :class:`~spectranet.config.HSIConfig` options of the same name, validated there
        at ``fit``; None (default) keeps the preset's value (paper: ``window=11`` pixels (odd
        >= 3), ``components=20``, ``model="fast3dcnn"`` (needs window >= 9 and components >=
        15), ``dropout`` the model's, ``optimizer="adam"``, ``lr=0.001``, ``batch_size=256``
        patches, ``epochs=50``).
    steps : int >= 1 or None, default None
        Optimisation steps to train instead of ``epochs`` (see
        :func:`~spectranet.engine.optim.training_epochs`); None keeps the preset's (paper:
        none, ``epochs`` count).
    weight_decay, scheduler, class_weight, precision, device, map_batch_size : optional
        Likewise (paper: 0, "none", "none", "auto", "cpu", 1024 patches per forward pass at
        validation and prediction).
    svm_weight : float in [0, 1], "auto" or None, default None
        Share of a spectral SVM's probabilities mixed into the CNN's (the SVM is fitted on the
        training pixels; "auto": chosen on the held-out pixels); None keeps the preset's
        (paper: 0, off).
    svm_neighbourhood : odd int >= 1, "auto" or None, default None
        The SVM sees each pixel's mean spectrum over this window (1: the pixel alone; "auto":
        chosen on the held-out pixels); None keeps the preset's (paper: 1).
    self_training : float in (0, 1), 0 or None, default None
        One round of self-training (:mod:`spectranet.hsi.self_training`): the pixels marked -1
        in the label map (the pool; 0 stays background) whose top probability, of the mix when
        mixing, is at least this threshold take their top class, and a fresh model trains as
        many steps on them and the training pixels (the SVM on the training pixels only); the
        hold-out is random, so no patch rule applies. 0: off; None keeps the preset's (off).
    validation_fraction : float in [0, 1) or None, default None
        Share of each class's labelled pixels held out to keep the best epoch; None = the
        preset's ``val_fraction`` (0.5: the paper halves its non-test pixels); 0 trains on
        every labelled pixel and keeps the last epoch.
    seed : int >= 0, default 0
        Seeds the hold-out, the weights, the batch order and dropout.
    verbose : bool, default False
        Progress of the epochs (bars on a terminal, else one line per epoch on stderr).

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The label map's ids (0 excluded), ascending; column order of :meth:`predict_proba`.
    config_ : HSIConfig
        The resolved settings (``cube`` and ``gt`` hold a placeholder).
    reducer_ : SpectralReducer
        Fitted on the training cube; applied to every cube given to ``predict``.
    model_ : torch.nn.Module
        Weights of the best validation epoch (the last epoch without validation).
    svm_mix_ : SVMMix or None
        The spectral SVM mixed into :meth:`predict_proba` (``svm_weight`` > 0), else None.
    predictor_ : HSIPredictor
        The three above as one trained model (class names "class <id>", no palette); it
        answers :meth:`predict_proba`.
    n_bands_in_ : int
    precision_ : {"fp32", "bf16"}
        ``precision`` resolved ("auto": bf16 on CPUs with native bfloat16).
    history_ : list of dict
        One entry per epoch (losses, accuracies, seconds); ``best_epoch_`` : int.
    self_training_ : dict or None
        With ``self_training``: the pool, the pseudo-labels kept per class and both models'
        held-out accuracy (:func:`~spectranet.hsi.self_training.self_train`); else None.

    Notes
    -----
    A cube is one sample of scikit-learn's ``X``: ``cross_val_score`` or ``GridSearchCV``
    would split its *rows* and glue unrelated rows together. Split the label map instead
    (:func:`~spectranet.hsi.splits.random_split`, or
    :func:`~spectranet.hsi.disjoint.disjoint_split` for no patch overlap), mask it into a
    training and a validation map, and loop over ``ParameterGrid`` with ``clone`` (see
    ``docs/estimators.md``). The PCA sees every pixel of the cube given to ``fit``, validation
    pixels included (their labels are never used).

    Examples
    --------
    >>> scene = load_scene("indian_pines")  # doctest: +SKIP
    >>> gt = np.where(scene.labels >= 0, np.asarray(scene.class_ids)[scene.labels], 0)
    >>> clf = HSIClassifier("quick").fit(scene.cube, gt)  # doctest: +SKIP
    >>> clf.predict(scene.cube).shape, clf.classes_[:3]  # doctest: +SKIP
    ((145, 145), array([1, 2, 3]))
    """

    def __init__(
        self,
        preset: str | None = "paper",
        *,
        window: int | None = None,
        components: int | None = None,
        model: str | None = None,
        dropout: float | None = None,
        optimizer: str | None = None,
        lr: float | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        steps: int | None = None,
        weight_decay: float | None = None,
        scheduler: str | None = None,
        class_weight: str | None = None,
        validation_fraction: float | None = None,
        precision: str | None = None,
        device: str | None = None,
        map_batch_size: int | None = None,
        svm_weight: float | str | None = None,
        svm_neighbourhood: int | str | None = None,
        self_training: float | None = None,
        seed: int = 0,
        verbose: bool = False,
    ) -> None:
        # every argument stored unchanged, validated in fit (scikit-learn's rule)
        self.preset = preset
        self.window = window
        self.components = components
        self.model = model
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps = steps
        self.weight_decay = weight_decay
        self.scheduler = scheduler
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.precision = precision
        self.device = device
        self.map_batch_size = map_batch_size
        self.svm_weight = svm_weight
        self.svm_neighbourhood = svm_neighbourhood
        self.self_training = self_training
        self.seed = seed
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        """Inputs are (rows, cols, bands) cubes, not 2-D sample matrices."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array, tags.input_tags.three_d_array = False, True
        return tags

    def fit(self, cube: np.ndarray, label_map: np.ndarray) -> HSIClassifier:
        """Train on the labelled pixels of ``cube``.

        Parameters
        ----------
        cube : array-like, shape (rows, cols, bands), real
            The scene, any units, finite.
        label_map : array-like of int, shape (rows, cols)
            0 = unlabelled, any other id a class (need not be contiguous); >= 2 classes.
            With ``self_training``, -1 marks the unlabelled pixels it may pseudo-label.

        Returns
        -------
        self

        Raises
        ------
        ConfigError
            An invalid option, a window larger than the scene, more components than bands.
        DataError
            A malformed cube or label map, sizes that differ, fewer than two classes, or a
            class with fewer than 3 pixels when ``validation_fraction > 0``.
        """
        config = make_config("hsi", self.preset, cube=_IN_MEMORY, gt=_IN_MEMORY,
                             seeds=[check_int("seed", self.seed, 0)],
                             **{name: getattr(self, name) for name in _OPTIONS})
        fraction = check_fraction(self.validation_fraction, config.val_fraction)
        cube = check_cube(cube)
        labels = check_label_map(label_map, cube.shape[:2], pool=bool(config.self_training))
        check_window(config.window, cube.shape[:2])
        config = resolve_components(config, cube.shape[2], "the cube given to fit")
        check_device(config.device)
        classes, codes = encode(labels)
        train, val = holdout(codes, classes, fraction, config.seeds[0])
        if "auto" in (config.svm_weight, config.svm_neighbourhood) and val is None:
            raise ConfigError("svm_weight or svm_neighbourhood 'auto' is chosen on held-out "
                              "pixels: give validation_fraction > 0")
        precision = resolve_precision(config.precision)
        held_out = np.zeros(0, np.int64) if val is None else val
        svm, _ = fit_svm(config, cube, codes, train, held_out, config.seeds[0])
        scoring = {"batch_size": config.map_batch_size, "device": config.device}

        def train_model(pixels: np.ndarray, targets: np.ndarray,
                        recipe: HSIConfig) -> TrainedModel:
            model, reducer, result, steps = _train(cube, targets, pixels, val, recipe,
                                                   precision, len(classes), self.verbose)
            predictor = HSIPredictor(model, config.model, model_kwargs(config, len(classes)),
                                     reducer, tuple(int(c) for c in classes),
                                     tuple(f"class {c}" for c in classes), (),
                                     int(cube.shape[2]), precision, config.seeds[0], svm)
            if svm is not None and config.svm_weight == "auto":
                cnn, ids = predictor.cnn_proba_pixels(cube, held_out, **scoring)
                settled, _ = settle_svm_weight(config, svm, cnn,
                                               predictor.svm_proba_pixels(cube, ids),
                                               codes.ravel()[ids])
                predictor = predictor.with_svm_mix(settled)
            return TrainedModel(predictor, result, len(result.history), steps)

        kept, self.self_training_ = train_model(train, codes, config), None
        if config.self_training:
            pool = np.flatnonzero(labels.ravel() == -1)
            kept, self.self_training_, _ = self_train(
                kept, Pool(pool, pool, None), config, train_model, cube=cube, labels=codes,
                train=train, val=held_out, scored={"val": held_out}, pool_truth=False,
                **scoring)
        self.predictor_ = predictor = kept.predictor
        self.model_, self.reducer_ = predictor.model, predictor.reducer
        self.svm_mix_ = predictor.svm_mix
        self.config_, self.classes_, self.precision_ = config, classes, precision
        self.n_bands_in_ = int(cube.shape[2])
        self.history_, self.best_epoch_ = kept.result.history, kept.result.best_epoch
        return self

    def predict_proba(self, cube: np.ndarray) -> np.ndarray:
        """Class probabilities of every pixel.

        Parameters
        ----------
        cube : array-like, shape (rows, cols, bands), real
            The bands of ``fit``; at least ``window`` pixels on each side.

        Returns
        -------
        ndarray, shape (rows, cols, n_classes), float
            Softmax outputs (float32), mixed with the spectral SVM's (float64) when
            ``svm_weight`` > 0; column k is the class ``classes_[k]``.
        """
        return self._predict(cube, "predict_proba")[1]

    def predict(self, cube: np.ndarray) -> np.ndarray:
        """Label every pixel of ``cube`` (border pixels included).

        Returns
        -------
        ndarray, shape (rows, cols), dtype of ``classes_``
            The label map's ids (never 0).
        """
        class_map, _ = self._predict(cube, "predict")
        return self.classes_[class_map]

    def score(self, cube: np.ndarray, label_map: np.ndarray) -> float:
        """Overall accuracy on the labelled pixels (ids != 0); unseen ids count as errors.

        Returns
        -------
        float in [0, 1]
        """
        self._check_fitted("score")
        cube = check_cube(cube)
        labels = check_label_map(label_map, cube.shape[:2])
        mask = labels != 0
        if not mask.any():
            raise DataError("label_map must hold a labelled pixel (id != 0), got none")
        return float(np.mean(self.predict(cube)[mask] == labels[mask]))

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "model_"):
            raise _NotFittedError(f"{type(self).__name__} is not fitted: call fit(cube, "
                                  f"label_map) before {method}")

    def _predict(self, cube: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted(method)
        cube, window = check_cube(cube), self.config_.window
        if cube.shape[2] != self.n_bands_in_:
            raise DataError(f"cube must have {self.n_bands_in_} bands as at fit, "
                            f"got {cube.shape[2]}")
        if min(cube.shape[:2]) < window:
            raise DataError(f"cube must be at least {window} x {window} pixels (the window), "
                            f"got {cube.shape[0]} x {cube.shape[1]}")
        proba = self.predictor_.proba_map(cube, batch_size=self.config_.map_batch_size,
                                          device=self.config_.device, progress=self.verbose)
        return proba.argmax(-1), proba


def _train(cube: np.ndarray, codes: np.ndarray, train: np.ndarray, val: np.ndarray | None,
           config: HSIConfig, precision: str, n_classes: int,
           verbose: bool) -> tuple[Any, SpectralReducer, training.FitResult, int]:
    """Seed, build the model, reduce the cube and run the engine's ``fit`` (pipeline order).

    Returns the model, the fitted reducer, the fit's record and the optimisation steps run.
    """
    seed = config.seeds[0]
    training.seed_everything(seed)
    model = build_model(config.model, **model_kwargs(config, n_classes))  # validates first
    reducer = make_reducer(config).fit(cube)
    reduced = reducer.transform(cube)
    start_model(config, model, reduced, train)
    patches = PatchDataset(reduced, codes, train, window=config.window)
    train_batches = PatchBatches(patches, config.batch_size, shuffle=True, seed=seed,
                                 transforms=training_transforms(config),
                                 drop_last=config.drop_last)
    result = training.fit(
        model,
        train_batches,
        None if val is None else PatchBatches(patches.subset(val), config.map_batch_size),
        device=config.device, precision=precision, progress=verbose, desc="HSIClassifier",
        **fit_options(config, model, codes.ravel()[train], n_classes,
                      batches_per_epoch=len(train_batches)),
    )
    return model, reducer, result, len(result.history) * len(train_batches)
