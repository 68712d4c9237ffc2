"""scikit-learn-compatible sound classifier: ``fit(X, y)`` on audio files or waveforms.

:class:`SoundClassifier` runs the library's steps in memory (no run folder): log-mel windows,
scaling and batches, the spec CNN, the engine's ``fit`` and clip aggregation.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import sklearn.exceptions
from sklearn.base import BaseEstimator, ClassifierMixin

from spectranet import errors
from spectranet.audio.datasets import ClipRecord, ClipTable
from spectranet.audio.decoding import resample_audio
from spectranet.audio.extraction import WindowTable, extract_features
from spectranet.audio.features import clip_features, silent_windows
from spectranet.audio.models import build_model, check_reach
from spectranet.audio.pipeline import default_cache, feature_settings, model_options, round_loaders
from spectranet.audio.predictor import SoundPredictor
from spectranet.audio.scaling import Standardizer
from spectranet.config import AudioConfig, make_config
from spectranet.engine import training
from spectranet.engine.distributed import check_device
from spectranet.engine.optim import fit_options
from spectranet.engine.precision import resolve_precision
from spectranet.errors import ConfigError, DataError

__all__ = ["SoundClassifier"]

#: Constructor arguments that are :class:`~spectranet.config.AudioConfig` fields (None = preset).
_OPTIONS = ("arch", "filters", "dropout", "n_fft", "hop_length", "n_mels", "frames", "overlap",
            "short_clip", "drop_silent", "aggregate", "optimizer", "lr", "momentum", "nesterov",
            "batch_size", "epochs", "steps", "weight_decay", "batch_norm", "scheduler", "augment",
            "sampling", "val_windows", "mixup", "label_smoothing", "class_weight",
            "feature_cache", "jobs", "precision", "device")


class _NotFittedError(errors.NotFittedError, sklearn.exceptions.NotFittedError):
    """Used before ``fit``: both spectranet's NotFittedError and scikit-learn's."""


class SoundClassifier(ClassifierMixin, BaseEstimator):
    """CNN classifier of sound clips on log-mel windows (Chen et al. 2019's models).

    Each clip is cut into log-mel + delta windows (:mod:`spectranet.audio.features`); the CNN
    scores windows and a clip's decision aggregates its windows' probabilities
    (:func:`~spectranet.audio.protocol.aggregate_clips`), as the trained model's
    :class:`~spectranet.audio.predictor.SoundPredictor` answers. ``fit`` standardises the bands on
    the training windows (:func:`~spectranet.audio.pipeline.round_loaders`), may hold out a
    stratified share of the clips to keep the best epoch, and trains with the engine's
    ``fit``. Nothing is written to disk but the feature cache of files (``feature_cache``).

    Parameters
    ----------
    preset : {"standard", "quick", "paper"} or None, default "standard"
        Recipe the other options start from (``spectranet/presets/audio_*.toml``): "standard"
        is our CPU recipe, "paper" Chen et al.'s (500 SGD epochs: GPU work); None = the
        defaults of :class:`~spectranet.config.AudioConfig`.
    sr : int > 0 or None, Hz, default None
        Rate of the waveforms in ``X``, resampled to ``feature_sr`` as files are (soxr);
        None = already at ``feature_sr``. Files carry their own rate.
    feature_sr : int > 0 or None, Hz, default None
        ``AudioConfig.sr``, the rate of the features (every preset: 22,050 Hz).
    arch, filters, dropout, n_fft, hop_length, n_mels, frames, overlap, short_clip : optional
        The :class:`~spectranet.config.AudioConfig` options of the same name, validated there
        at ``fit``; None (default) keeps the preset's value (standard: the paper's
        ``"Cov1 + Cov2 + Cov3 + DilaCov1(2)"``, 41-frame windows, 50 % overlap, 64 mels).
    drop_silent, aggregate, optimizer, lr, momentum, nesterov, batch_size, epochs : optional
        Likewise (standard: True, "mean", "adamw", 0.003, 0, False, 64 windows, 50).
    steps : int >= 1 or None, default None
        Optimisation steps to train instead of ``epochs`` (see
        :func:`~spectranet.engine.optim.training_epochs`); None keeps the preset's.
    weight_decay, batch_norm, scheduler, augment, sampling, val_windows, mixup : optional
        Likewise (standard: 0.01, True, "onecycle", False, "clips", "middle", 0.2).
    label_smoothing, class_weight, feature_cache, jobs, precision, device : optional
        Likewise (0, "none", True, 2 feature processes, "auto", "cpu").
    validation_fraction : float in [0, 1) or None, default None
        Share of each class's clips held out to keep the best epoch (>= 1 per class); None =
        0 (the last epoch is kept) for presets without a validation fold ("standard",
        "quick"), else 0.1 (one fold of UrbanSound8K's ten).
    seed : int >= 0, default 0
        Seeds the hold-out, the weights, the batch draws, augmentation and mixup.
    verbose : bool, default False
        Progress of feature extraction and epochs.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The distinct labels of ``y``, sorted; column order of :meth:`predict_proba`.
    config_ : AudioConfig
    predictor_ : SoundPredictor
        The trained model as it answers (features, scaler, network, aggregation).
    scaler_ : Standardizer
        Per-band statistics of the training windows (``predictor_.standardizer``).
    model_ : torch.nn.Module
        Weights of the best validation epoch (the last epoch without validation;
        ``predictor_.model``).
    precision_ : {"fp32", "bf16"}
    history_ : list of dict
        One entry per epoch; ``best_epoch_`` : int.

    Examples
    --------
    >>> clf = SoundClassifier("quick", epochs=10).fit(paths, labels)  # doctest: +SKIP
    >>> clf.predict(["dog.wav"])  # doctest: +SKIP
    array(['dog_bark'], dtype='<U16')
    >>> cross_val_score(SoundClassifier("quick"), paths, labels, cv=5)  # doctest: +SKIP
    """

    def __init__(  # options grouped as in the docstring; None = the preset's value
        self, preset: str | None = "standard", *, sr: int | None = None,
        feature_sr: int | None = None, arch: str | None = None,
        filters: list[int] | None = None, dropout: float | None = None,
        n_fft: int | None = None, hop_length: int | None = None, n_mels: int | None = None,
        frames: int | None = None, overlap: float | None = None,
        short_clip: str | None = None, drop_silent: bool | None = None,
        aggregate: str | None = None, optimizer: str | None = None, lr: float | None = None,
        momentum: float | None = None, nesterov: bool | None = None,
        batch_size: int | None = None, epochs: int | None = None, steps: int | None = None,
        weight_decay: float | None = None, batch_norm: bool | None = None,
        scheduler: str | None = None, augment: bool | None = None,
        sampling: str | None = None, val_windows: str | None = None,
        mixup: float | None = None, label_smoothing: float | None = None,
        class_weight: str | None = None, validation_fraction: float | None = None,
        feature_cache: bool | None = None, jobs: int | None = None,
        precision: str | None = None, device: str | None = None, seed: int = 0,
        verbose: bool = False,
    ) -> None:
        # every argument stored unchanged, validated in fit (scikit-learn's rule)
        self.preset = preset
        self.sr = sr
        self.feature_sr = feature_sr
        self.arch = arch
        self.filters = filters
        self.dropout = dropout
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.frames = frames
        self.overlap = overlap
        self.short_clip = short_clip
        self.drop_silent = drop_silent
        self.aggregate = aggregate
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps = steps
        self.weight_decay = weight_decay
        self.batch_norm = batch_norm
        self.scheduler = scheduler
        self.augment = augment
        self.sampling = sampling
        self.val_windows = val_windows
        self.mixup = mixup
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.feature_cache = feature_cache
        self.jobs = jobs
        self.precision = precision
        self.device = device
        self.seed = seed
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        """Inputs are lists of files or waveforms, not 2-D sample matrices."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags

    def fit(self, X: Iterable[Any], y: Iterable[Hashable]) -> SoundClassifier:
        """Train on clips ``X`` labelled ``y``.

        Parameters
        ----------
        X : sequence of path-like or of 1-D float arrays, length n_clips
            Audio files (any format soundfile reads) or mono waveforms at ``sr`` Hz.
        y : sequence of hashable, length n_clips
            Labels of any one comparable type (str, int...); at least two distinct.

        Returns
        -------
        self

        Raises
        ------
        ConfigError
            An invalid option.
        DataError, DataNotFoundError
            Malformed or missing clips, ``y`` of another length, fewer than two classes, or
            a class with one clip when ``validation_fraction > 0``.
        """
        config = make_config("audio", self.preset, sr=self.feature_sr,
                             seeds=[_check_int("seed", self.seed, 0)],
                             **{name: getattr(self, name) for name in _OPTIONS})
        fraction = _fraction(self.validation_fraction, config.validation)
        clips = _check_clips(X)
        classes, codes = _encode(y, len(clips))
        val = _holdout(codes, classes, fraction, config.seeds[0])
        check_device(config.device)
        check_reach(config.arch, config.n_mels, config.frames)
        build_model(config.arch, len(classes), **model_options(config))  # validates first
        windows = self._windows(clips, config)
        precision = resolve_precision(config.precision)
        model, scaler, result = _train(windows, codes, classes, val, config, precision,
                                       self.verbose)
        self.predictor_ = SoundPredictor(
            model, config.arch, model_options(config), windows.settings, scaler,
            tuple(range(len(classes))), tuple(map(str, classes)), config.aggregate, precision,
            config.seeds[0])
        self.model_, self.scaler_ = model, scaler
        self.config_, self.classes_, self.precision_ = config, classes, precision
        self.history_, self.best_epoch_ = result.history, result.best_epoch
        return self

    def predict_proba(self, X: Iterable[Any]) -> np.ndarray:
        """Clip probabilities: the aggregation (``aggregate``) of the window probabilities.

        Parameters
        ----------
        X : sequence of path-like or of 1-D float arrays, length n_clips

        Returns
        -------
        ndarray, shape (n_clips, n_classes), float64
            Rows sum to 1; column k is the class ``classes_[k]``.
        """
        if not hasattr(self, "model_"):
            raise _NotFittedError(f"{type(self).__name__} is not fitted: call fit(X, y) "
                                  f"before predicting")
        windows = self._windows(_check_clips(X), self.config_)
        return self.predictor_.proba(windows.x, windows.clip_ids, device=self.config_.device)[0]

    def predict(self, X: Iterable[Any]) -> np.ndarray:
        """Label of each clip (the class of highest aggregated probability).

        Returns
        -------
        ndarray, shape (n_clips,), dtype of ``classes_``
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X: Iterable[Any], y: Iterable[Hashable],
              sample_weight: np.ndarray | None = None) -> float:
        """Clip accuracy of :meth:`predict` against ``y`` (labels unseen at fit count as errors).

        Returns
        -------
        float in [0, 1]
        """
        clips = _check_clips(X)
        labels = _as_labels(y)
        if len(labels) != len(clips):
            raise DataError(f"y has {len(labels)} labels for {len(clips)} clips in X")
        return float(super().score(clips, labels, sample_weight=sample_weight))

    def _windows(self, clips: list[Path | np.ndarray], config: AudioConfig) -> WindowTable:
        """Feature windows of every clip; ``clip_ids`` are positions in ``clips``."""
        settings = feature_settings(config)
        sr = settings.sr if self.sr is None else _check_int("sr", self.sr, 1)
        records = [ClipRecord(path=c, label=-1, fold=None, clip_id=i, name=c.name)
                   for i, c in enumerate(clips) if isinstance(c, Path)]
        parts = []
        if records:
            table = extract_features(records, settings, jobs=config.jobs, progress=self.verbose,
                                     cache=default_cache() if config.feature_cache else None)
            parts.append((table.x, table.clip_ids))
        for i, clip in enumerate(clips):
            if isinstance(clip, np.ndarray):
                x = clip_features(resample_audio(clip, orig_sr=sr, sr=settings.sr),
                                  settings=settings)
                parts.append((x, np.full(len(x), i, np.int64)))
        x = np.concatenate([p[0] for p in parts])
        return WindowTable(x=x, clip_ids=np.concatenate([p[1] for p in parts]),
                           silent=silent_windows(x, silence_db=settings.silence_db),
                           settings=settings)


def _train(windows: WindowTable, codes: np.ndarray, classes: np.ndarray, val: np.ndarray,
           config: AudioConfig, precision: str,
           verbose: bool) -> tuple[Any, Standardizer, training.FitResult]:
    """Seed, build the loaders (the pipeline's ``round_loaders``) and the model, run ``fit``."""
    seed, n_classes = config.seeds[0], len(classes)
    split = {"train": np.setdiff1d(np.arange(len(codes)), val), "val": val,
             "test": np.zeros(0, np.int64)}
    training.seed_everything(seed)
    scaler, loaders = round_loaders(windows.x, _clip_table(codes, classes), windows, split,
                                    config, seed)
    model = build_model(config.arch, n_classes, **model_options(config))
    train_labels = loaders["train"].y[loaders["train"].indices]
    result = training.fit(
        model, loaders["train"], loaders.get("val"), device=config.device, precision=precision,
        progress=verbose, desc="SoundClassifier",
        **fit_options(config, model, train_labels, n_classes,
                      batches_per_epoch=len(loaders["train"])),
    )
    return model, scaler, result


def _fraction(value: Any, validation: str) -> float:
    if value is None:
        return 0.0 if validation == "none" else 0.1
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ConfigError(f"validation_fraction must be a number in [0, 1), got {value!r}")
    return float(value)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_clips(X: Any) -> list[Path | np.ndarray]:
    """``X`` as a list of file paths and float32 waveforms, each checked."""
    if isinstance(X, str | bytes | os.PathLike) or not isinstance(X, Iterable):
        raise DataError(f"X must be a sequence of audio file paths or 1-D waveforms, "
                        f"got {type(X).__name__}")
    clips: list[Path | np.ndarray] = []
    for i, item in enumerate(X):
        if isinstance(item, str | os.PathLike):
            clips.append(Path(item))
            continue
        wave = np.asarray(item)
        if wave.ndim != 1 or wave.size == 0 or wave.dtype.kind != "f":
            raise DataError(f"X[{i}] must be an audio file path or a non-empty 1-D float "
                            f"waveform, got {wave.dtype} array of shape {wave.shape}")
        if not np.isfinite(wave).all():
            raise DataError(f"X[{i}] must hold finite samples, got NaN or inf")
        clips.append(wave.astype(np.float32, copy=False))
    if not clips:
        raise DataError("X must hold at least one clip, got none")
    return clips


def _as_labels(y: Any) -> np.ndarray:
    if isinstance(y, str | bytes) or not isinstance(y, Iterable):
        raise DataError(f"y must be a sequence of labels, got {type(y).__name__}")
    values = y if isinstance(y, np.ndarray) else list(y)
    labels = np.asarray(values)
    if labels.ndim != 1:  # e.g. tuples as labels: keep them whole
        labels = np.empty(len(values), dtype=object)
        labels[:] = list(values)
    return labels


def _encode(y: Any, n_clips: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct labels and each clip's index into them."""
    labels = _as_labels(y)
    if len(labels) != n_clips:
        raise DataError(f"y has {len(labels)} labels for {n_clips} clips in X")
    try:
        classes, codes = np.unique(labels, return_inverse=True)
    except TypeError as err:
        raise DataError(f"y must hold labels of one comparable type, got {err}") from None
    if len(classes) < 2:
        raise DataError(f"y must hold at least 2 distinct labels, got {classes.tolist()}")
    return classes, codes.astype(np.int64)


def _holdout(codes: np.ndarray, classes: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Clips held out for validation: a stratified ``fraction`` (at least one per class)."""
    if fraction == 0:
        return np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    held = []
    for k, label in enumerate(classes.tolist()):
        members = np.flatnonzero(codes == k)
        if members.size < 2:
            raise DataError(f"class {label!r} has {members.size} clip; validation_fraction > 0 "
                            f"needs >= 2 per class (or pass 0)")
        n = min(max(round(fraction * members.size), 1), members.size - 1)
        held.append(rng.permutation(members)[:n])
    return np.sort(np.concatenate(held))


def _clip_table(codes: np.ndarray, classes: np.ndarray) -> ClipTable:
    """Clip records of in-memory clips (only their labels are read by the loaders)."""
    records = tuple(ClipRecord(path=Path(f"<clip {i}>"), label=int(c), fold=None, clip_id=i,
                               name=f"<clip {i}>") for i, c in enumerate(codes))
    return ClipTable(records=records, class_names=tuple(map(str, classes)),
                     class_ids=tuple(range(len(classes))), source="<in-memory>")
