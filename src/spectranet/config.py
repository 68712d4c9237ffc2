"""Typed, validated experiment configuration and the papers' presets.

A configuration is a frozen dataclass: :class:`HSIConfig` for hyperspectral runs and
:class:`AudioConfig` for sound runs. Presets are TOML files in :mod:`spectranet.presets`
(``paper``, ``standard`` and ``quick`` for each domain); explicit options override a preset.
A run writes its resolved configuration to ``config.json``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from spectranet.engine.options import CLASS_WEIGHTS, OPTIMIZERS, PRECISION_CHOICES, SCHEDULERS
from spectranet.errors import ConfigError
from spectranet.presets import describe_preset, list_presets, load_preset
from spectranet.validation import (
    check_choice,
    check_fraction,
    check_positive,
    check_seeds,
    check_split_file,
)

__all__ = [
    "BASELINES",
    "CLASS_WEIGHTS",
    "OPTIMIZERS",
    "SAMPLINGS",
    "VAL_WINDOWS",
    "VALIDATIONS",
    "PRECISION_CHOICES",
    "PRESETS",
    "SCHEDULERS",
    "STEM_INITS",
    "HSIConfig",
    "AudioConfig",
    "load_preset",
    "describe_preset",
    "make_config",
    "list_presets",
]

PRESETS = ("paper", "standard", "quick")
#: Allowed values of the pipelines' own options (the engine's come from engine.options).
SAMPLINGS = ("windows", "clips")
VALIDATIONS = ("fold", "none")
STEM_INITS = ("random", "pca")
VAL_WINDOWS = ("all", "middle")
BASELINES = ("none", "rf", "svm")
_C = TypeVar("_C", "HSIConfig", "AudioConfig")


def _training(cfg: HSIConfig | AudioConfig) -> None:
    check_choice("optimizer", cfg.optimizer, OPTIMIZERS)
    check_positive("lr", cfg.lr)
    check_positive("batch_size", cfg.batch_size, integer=True)
    check_positive("epochs", cfg.epochs, integer=True)
    check_choice("precision", cfg.precision, PRECISION_CHOICES)
    check_positive("weight_decay", cfg.weight_decay, allow_zero=True)
    check_choice("scheduler", cfg.scheduler, SCHEDULERS)
    check_choice("class_weight", cfg.class_weight, CLASS_WEIGHTS)
    check_seeds(cfg.seeds)


def _recipe_extras(cfg: HSIConfig) -> None:
    """Validate the HSI options beyond the paper's recipe (block, split seed, augmentation...)."""
    if cfg.block is not None:
        check_positive("block", cfg.block, integer=True)
    sw = cfg.split_window
    if sw is not None and (isinstance(sw, bool) or not isinstance(sw, int) or sw % 2 == 0
                           or not isinstance(cfg.window, int) or sw < cfg.window):
        raise ConfigError(f"split_window must be an odd integer >= window ({cfg.window!r}), "
                          f"got {sw!r}")
    if not isinstance(cfg.flips, bool):
        raise ConfigError(f"flips must be true or false, got {cfg.flips!r}")
    if not isinstance(cfg.pca, bool):
        raise ConfigError(f"pca must be true or false, got {cfg.pca!r}")
    if not isinstance(cfg.unit_norm, bool):
        raise ConfigError(f"unit_norm must be true or false, got {cfg.unit_norm!r}")
    check_choice("stem_init", cfg.stem_init, STEM_INITS)
    if cfg.stem_init == "pca" and cfg.model != "fast3dcnn_stem":
        raise ConfigError(f"stem_init 'pca' needs model 'fast3dcnn_stem', got {cfg.model!r}")
    if cfg.split_seed is not None:
        check_positive("split_seed", cfg.split_seed, integer=True, allow_zero=True)
    check_positive("spectral_noise", cfg.spectral_noise, allow_zero=True)
    check_positive("spectral_shift", cfg.spectral_shift, integer=True, allow_zero=True)
    if cfg.spectral_shift and cfg.pca:
        raise ConfigError("spectral_shift needs bands in spectral order: use it with pca false")
    check_positive("mixup", cfg.mixup, allow_zero=True)
    if isinstance(cfg.label_smoothing, bool) or not 0 <= cfg.label_smoothing < 1:
        raise ConfigError(f"label_smoothing must be in [0, 1), got {cfg.label_smoothing!r}")


@dataclass(frozen=True)
class HSIConfig:
    """Settings of a hyperspectral run (Ahmad 2020 unless stated).

    Parameters
    ----------
    scene : str, optional
        Registered scene name (``spectranet data list``); or give ``cube`` and ``gt``.
    cube, gt : str, optional
        A user's cube (H, W, B) and label map (H, W) files (.mat, .npy, .npz, ENVI).
    class_names : path, optional
        With ``cube``: a text file naming the label map's classes, one ``<id> <name>`` per
        line or one name per line in ascending id order (see
        :func:`spectranet.hsi.datasets.read_class_names`); default ``class <id>``.
    window : odd int >= 3, pixels, default 11
        Patch side S; the paper uses 11 to 25.
    components : int >= 1 or "all", default 20
        PCA components kept (paper: 20); "all": as many as the cube has bands (with
        ``pca=False``, every band), resolved when the cube is read.
    protocol : {"paper", "disjoint"}, default "paper"
        ``paper``: stratified random split, PCA on the whole cube; ``disjoint``: spatially
        disjoint regions, PCA and scaling fitted on training pixels only.
    test_size : fraction, default 0.3
        Share of labelled pixels for testing.
    val_fraction : fraction, default 0.5
        Share of the non-test pixels used for validation (paper: the 70 % are halved); with a
        ``split_file`` that has no validation map, share of each class's training pixels.
    train_per_class : int or float, optional
        Fixed number (int >= 1) or fraction (float in (0, 1)) of training pixels per class
        instead of the paper split; the validation set then takes as many, the rest is test.
    split_file : path or list of two paths, optional
        A fixed split instead of ``protocol``'s: train / test label maps of the scene's size,
        the scene's class ids, 0 = not in this set (see :mod:`spectranet.hsi.split_files` for
        the formats); without a validation map, ``val_fraction`` of each class's training
        pixels validate, drawn per seed.
    validation : {"split", "none"}, default "split"
        "split": the split's validation pixels score every epoch and the best epoch is kept;
        "none": they train too (the same split and test pixels) and the last epoch is kept, a
        fixed number of epochs that must have been chosen on validation beforehand (not in the
        paper).
    split_buffer : bool, default False
        With ``split_file``: drop the training and validation pixels whose patch
        (``window x window``) contains a test pixel, so that the split is leakage-free.
    model : str, default "fast3dcnn"
    dropout : float in [0, 1), optional
        Default None: the model's own default (0.4 for the fast 3D CNN, which the paper does
        not give: our assumption). Only for models that have dropout.
    optimizer, lr, batch_size, epochs, weight_decay
        Paper: Adam, 0.001, 256, 50, 0.
    scheduler : {"none", "cosine", "onecycle"}, default "none"
        Learning-rate schedule per epoch (see :func:`spectranet.engine.optim.make_scheduler`);
        the paper uses none.
    class_weight : {"none", "balanced"}, default "none"
        "balanced" weights the training loss by inverse class frequency in the training set
        (not in the paper; see :func:`spectranet.engine.optim.make_loss`).
    precision : {"auto", "fp32", "bf16"}, default "auto"
        "auto" picks bf16 autocast on CPUs with native bfloat16 support, else fp32.
    seeds : list of int, default [0]
        Each seed draws its own split and its own model initialisation and batch order.
    split_seed : int >= 0, optional
        Draw the split (regions, random split, or a split file's validation pixels) with this
        seed for every seed of the run, which then only seeds the model's initialisation and
        the batch order (e.g. an ensemble of models on one split). Default None: each seed
        draws its own split, as it always did (not in the paper).
    block : int, stripes, optional
        ``disjoint`` protocol: cut each class's stripes into blocks of ``block`` to
        ``2 * block`` stripes, each cut into test, training and validation parts (see
        :func:`spectranet.hsi.disjoint.disjoint_split`); default None, one block per class.
    split_window : odd int >= window, pixels, optional
        ``disjoint`` protocol: the window the split's buffers are sized for (default
        ``window``), so that models of different windows are tested on the same regions.
    flips : bool, default False
        Random 90-degree rotations and mirroring of training patches (not in the paper).
    pca : bool, default True
        False: no PCA, the model gets every band standardised (``components`` must then be
        "all" or the cube's bands), e.g. for ``fast3dcnn_stem`` (not in the paper).
    unit_norm : bool, default False
        Divide each pixel's spectrum by its L2 norm before the PCA and scaling (removes its
        brightness; see :class:`spectranet.hsi.reduce.SpectralReducer`; not in the paper).
    stem_init : {"random", "pca"}, default "random"
        ``fast3dcnn_stem`` only: "pca" starts the stem as the whitened PCA of the training
        pixels' spectra (see :func:`spectranet.hsi.stem_init.init_stem_pca`; not in the paper).
    spectral_noise : float >= 0, default 0.0
        Gaussian noise added to training patches, in units of the scaled components.
    spectral_shift : int >= 0, bands, default 0
        Training patches' spectra moved by up to this many bands (``pca=False`` only; see
        :class:`spectranet.hsi.augment.SpectralShift`; not in the paper).
    label_smoothing : float in [0, 1), default 0.0
        Label smoothing of the training loss (not in the paper).
    mixup : float >= 0, default 0.0
        Mixup of training batches with Beta(mixup, mixup) weights; 0 is off (not in the paper).
    """

    scene: str | None = None
    cube: str | None = None
    gt: str | None = None
    cube_variable: str | None = None
    gt_variable: str | None = None
    class_names: str | None = None
    window: int = 11
    components: int | str = 20
    protocol: str = "paper"
    test_size: float = 0.3
    val_fraction: float = 0.5
    train_per_class: int | float | None = None
    split_file: str | list[str] | None = None
    split_buffer: bool = False
    validation: str = "split"
    model: str = "fast3dcnn"
    dropout: float | None = None
    optimizer: str = "adam"
    lr: float = 0.001
    batch_size: int = 256
    epochs: int = 50
    weight_decay: float = 0.0
    scheduler: str = "none"
    class_weight: str = "none"
    precision: str = "auto"
    seeds: list[int] = field(default_factory=lambda: [0])
    split_seed: int | None = None
    map_batch_size: int = 1024
    device: str = "cpu"
    preset: str | None = None
    block: int | None = None
    split_window: int | None = None
    flips: bool = False
    pca: bool = True
    unit_norm: bool = False
    stem_init: str = "random"
    spectral_noise: float = 0.0
    spectral_shift: int = 0
    label_smoothing: float = 0.0
    mixup: float = 0.0

    def __post_init__(self) -> None:
        _recipe_extras(self)
        if self.scene is None and (self.cube is None or self.gt is None):
            raise ConfigError("give a scene name, or both a cube file and a label-map file")
        if self.scene is not None and (self.cube is not None or self.gt is not None):
            raise ConfigError("give either a scene name or cube and label-map files, not both")
        if self.class_names is not None and self.cube is None:
            raise ConfigError("class_names names the classes of your own --cube/--gt; a "
                              "registered scene has its own")
        w = self.window
        if isinstance(w, bool) or not isinstance(w, int) or w < 3 or w % 2 == 0:
            raise ConfigError(f"window must be an odd integer >= 3, got {w!r}")
        c = self.components
        if c != "all" and (isinstance(c, bool) or not isinstance(c, int) or c < 1):
            raise ConfigError(f"components must be an integer >= 1 or 'all', got {c!r}")
        check_choice("protocol", self.protocol, ("paper", "disjoint"))
        check_fraction("test_size", self.test_size)
        check_fraction("val_fraction", self.val_fraction)
        check_choice("validation", self.validation, ("split", "none"))
        tpc = self.train_per_class
        if tpc is not None and not (
            (isinstance(tpc, int) and not isinstance(tpc, bool) and tpc >= 1)
            or (isinstance(tpc, float) and 0 < tpc < 1)
        ):
            raise ConfigError(
                "train_per_class must be a count (integer >= 1) or a fraction (float in (0, 1)), "
                f"got {tpc!r}"
            )
        check_split_file(self)
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        check_positive("map_batch_size", self.map_batch_size, integer=True)
        _training(self)


@dataclass(frozen=True)
class AudioConfig:
    """Settings of a sound run (Chen et al. 2019 unless stated).

    Parameters
    ----------
    dataset : str, default "urbansound8k"
        ``urbansound8k``, ``esc50``, ``esc10`` or a folder of audio files with a labels CSV.
    folds : list of int, optional
        Test folds to run (default: every fold present).
    arch : str, default "Cov1 + Cov2 + Cov3 + DilaCov1(2)"
        Layer spec in the paper's notation, or a registered model name (``piczak``).
    filters : list of int, optional
        Filters per convolution; default 32, 32, 64, 64, then 64 (our assumption).
    sr, n_fft, hop_length, n_mels : feature settings (22,050 Hz, 1024, 512, 64)
    frames : int, default 41
        Frames per window; ``overlap`` 0.5.
    short_clip : {"repeat", "zeros"}, default "repeat"
        How a clip shorter than one window is padded to one window.
    drop_silent : bool, default True
        Drop silent windows from training (never from validation or test).
    aggregate : {"mean", "vote"}, default "mean"
        Clip score: mean of window probabilities or majority vote.
    optimizer, lr, momentum, nesterov, batch_size, epochs
        Paper: SGD with Nesterov momentum 0.9, 0.001, 32, 500.
    batch_norm : bool, default False
        Batch normalisation after each convolution (not in the paper).
    scheduler : {"none", "cosine", "onecycle"}, default "none"
        Learning-rate schedule per epoch (see :func:`spectranet.engine.optim.make_scheduler`);
        the paper uses none.
    augment : bool, default False
        Random circular time shift and time/frequency masking of training windows (not in
        the paper).
    sampling : {"windows", "clips"}, default "windows"
        What an epoch is: every training window (the paper), or one window drawn at random
        from each training clip (every window is still scored at validation and test).
    validation : {"fold", "none"}, default "fold"
        "fold": the previous fold present validates (best epoch kept); "none": every fold but
        the test fold trains and the last epoch is kept, a fixed schedule that must have been
        chosen on validation folds beforehand (the MFCC baseline trains on the same folds).
    val_windows : {"all", "middle"}, default "all"
        Windows of the validation fold scored after every epoch (to keep the best epoch): all,
        or the middle window of each clip (several times faster; test folds are always scored
        on every window).
    mixup : float >= 0, default 0.0
        Mixup of training batches with Beta(mixup, mixup) weights; 0 is off (not in the paper).
    label_smoothing : float in [0, 1), default 0.0
        Label smoothing of the training loss (not in the paper).
    baseline : {"none", "rf", "svm"}, default "none"
        Also run the MFCC + random forest (or SVM) baseline on the same folds and put it
        beside the CNN in the report and ``metrics.json``.
    class_weight : {"none", "balanced"}, default "none"
        "balanced" weights the training loss by inverse class frequency in the training set
        (not in the paper; see :func:`spectranet.engine.optim.make_loss`).
    feature_cache : bool, default True
        Reuse features cached under ``$SPECTRANET_CACHE`` (default ``~/.cache/spectranet``).
    """

    dataset: str = "urbansound8k"
    folds: list[int] | None = None
    arch: str = "Cov1 + Cov2 + Cov3 + DilaCov1(2)"
    filters: list[int] | None = None
    dropout: float = 0.5
    sr: int = 22050
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 64
    frames: int = 41
    overlap: float = 0.5
    short_clip: str = "repeat"
    drop_silent: bool = True
    aggregate: str = "mean"
    optimizer: str = "sgd"
    lr: float = 0.001
    momentum: float = 0.9
    nesterov: bool = True
    batch_size: int = 32
    epochs: int = 500
    weight_decay: float = 0.0
    batch_norm: bool = False
    scheduler: str = "none"
    augment: bool = False
    sampling: str = "windows"
    validation: str = "fold"
    val_windows: str = "all"
    mixup: float = 0.0
    label_smoothing: float = 0.0
    baseline: str = "none"
    class_weight: str = "none"
    feature_cache: bool = True
    precision: str = "auto"
    seeds: list[int] = field(default_factory=lambda: [0])
    jobs: int = 2
    on_error: str = "raise"
    device: str = "cpu"
    preset: str | None = None

    def __post_init__(self) -> None:
        for name in ("sr", "n_fft", "hop_length", "n_mels", "frames", "jobs"):
            check_positive(name, getattr(self, name), integer=True)
        if not 0 <= self.overlap < 1:
            raise ConfigError(f"overlap must be in [0, 1), got {self.overlap!r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_choice("short_clip", self.short_clip, ("repeat", "zeros"))
        check_choice("aggregate", self.aggregate, ("mean", "vote"))
        check_choice("sampling", self.sampling, SAMPLINGS)
        check_choice("val_windows", self.val_windows, VAL_WINDOWS)
        check_choice("validation", self.validation, VALIDATIONS)
        check_choice("baseline", self.baseline, BASELINES)
        check_positive("mixup", self.mixup, allow_zero=True)
        if isinstance(self.label_smoothing, bool) or not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        check_choice("on_error", self.on_error, ("raise", "skip"))
        if self.folds is not None and (
            not self.folds or any(isinstance(f, bool) or not isinstance(f, int) for f in self.folds)
        ):
            raise ConfigError(f"folds must be a non-empty list of integers, got {self.folds!r}")
        if self.filters is not None and any(
            isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in self.filters
        ):
            raise ConfigError(f"filters must be positive integers, got {self.filters!r}")
        _training(self)


_CLASSES: dict[str, type] = {"hsi": HSIConfig, "audio": AudioConfig}


def make_config(domain: str, preset: str | None = "paper", **overrides: Any) -> Any:
    """Build a validated configuration: a preset's settings, then ``overrides``.

    Overrides equal to ``None`` are ignored, so command-line options left unset keep the preset.

    Parameters
    ----------
    domain : {"hsi", "audio"}
    preset : str or None, default "paper"
    **overrides
        Any field of the configuration class.

    Raises
    ------
    ConfigError
        Unknown preset, unknown option or invalid value.
    """
    check_choice("domain", domain, tuple(_CLASSES))
    cls = _CLASSES[domain]
    settings = load_preset(domain, preset) if preset is not None else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings["preset"] = preset
    return from_dict(cls, settings)


def from_dict(cls: type[_C], data: dict[str, Any]) -> _C:
    """Build ``cls`` from a dict, rejecting unknown keys with the list of valid ones."""
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - valid)
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
        )
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
    return cls(**values)
