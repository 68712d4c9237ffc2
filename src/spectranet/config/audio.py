"""The configuration of a sound run (:class:`AudioConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from spectranet.config.checks import BASELINES, SAMPLINGS, VAL_WINDOWS, VALIDATIONS, check_training
from spectranet.errors import ConfigError
from spectranet.validation import check_choice, check_positive

__all__ = ["AudioConfig"]


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
    steps : int >= 1, optional
        Optimisation steps (batches) to train instead of ``epochs``: each round trains
        ``ceil(steps / batches per epoch)`` epochs (see
        :func:`spectranet.engine.optim.training_epochs`), so that a small training set trains
        as long as a large one; default None, ``epochs`` as given (not in the paper).
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
    validation : {"fold", "none", "group"}, default "fold"
        "fold": the previous fold present validates (best epoch kept); "none": every fold but
        the test fold trains and the last epoch is kept, a fixed schedule that must have been
        chosen on validation folds beforehand (the MFCC baseline trains on the same folds);
        "group": a ``val_share`` of the training folds' clips validates, whole source
        recordings at a time (UrbanSound8K's ``fsID``, ESC-50's ``src_file``, a user CSV's
        ``group`` column; a clip without one is its own recording) and stratified by class,
        drawn with the round's seed (:func:`spectranet.audio.protocol.grouped_validation`;
        no test fold takes part).
    val_share : float in (0, 0.5], default 0.2
        With ``validation="group"``: the share of the training folds' recordings that
        validates (drawn as one of ``round(1 / val_share)`` stratified group folds).
    keep : {"best", "last"}, default "best"
        The epoch a round keeps when it validates: the best on validation, or the last (the
        validation clips then only monitor, and choose the fusion weight); without
        validation the last (not in the paper).
    val_windows : {"all", "middle"}, default "all"
        Windows of the validation fold scored after every epoch (to keep the best epoch): all,
        or the middle window of each clip (several times faster; test folds are always scored
        on every window).
    mixup : float >= 0, default 0.0
        Mixup of training batches with Beta(mixup, mixup) weights; 0 is off (not in the paper).
    label_smoothing : float in [0, 1), default 0.0
        Label smoothing of the training loss (not in the paper).
    baseline : {"none", "rf", "svm", "ufl"}, default "none"
        Also run the MFCC + random forest (or SVM) baseline, or "ufl" (unsupervised feature
        learning + random forest, :mod:`spectranet.audio.ufl_baseline`), on the same folds and
        put it beside the CNN in the report and ``metrics.json``.
    baseline_weight : float in [0, 1] or "auto", default 0.0
        Late fusion (not in the paper): each test clip is classified by ``(1 - w) * CNN +
        w * forest`` clip probabilities, the forest being the MFCC random forest fitted on the
        round's training clips (needs ``baseline="rf"``); "auto" picks w in 0, 0.1, ..., 1 on
        the round's validation clips (needs ``validation="group"``), ties to the smaller w.
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
    steps: int | None = None
    weight_decay: float = 0.0
    batch_norm: bool = False
    scheduler: str = "none"
    augment: bool = False
    sampling: str = "windows"
    validation: str = "fold"
    val_share: float = 0.2
    keep: str = "best"
    val_windows: str = "all"
    mixup: float = 0.0
    label_smoothing: float = 0.0
    baseline: str = "none"
    baseline_weight: float | str = 0.0
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
        check_choice("keep", self.keep, ("best", "last"))
        check_choice("baseline", self.baseline, BASELINES)
        _check_fusion(self)
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
        check_training(self)


def _check_fusion(cfg: AudioConfig) -> None:
    """``val_share`` and ``baseline_weight``, and what the weight needs of the other options."""
    share = cfg.val_share
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 0.5:
        raise ConfigError(f"val_share must be a number in (0, 0.5], got {share!r}")
    weight = cfg.baseline_weight
    if weight == "auto":
        if cfg.validation != "group":
            raise ConfigError("baseline_weight 'auto' is chosen on grouped validation clips: "
                              f"set validation to 'group', got {cfg.validation!r}")
    elif isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ConfigError(f"baseline_weight must be a number in [0, 1] or 'auto', got {weight!r}")
    if weight != 0 and cfg.baseline != "rf":
        raise ConfigError(f"baseline_weight {weight!r} mixes in the MFCC random forest's "
                          f"probabilities: set baseline to 'rf', got {cfg.baseline!r}")
