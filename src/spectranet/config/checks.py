"""Allowed option values and the checks that both configuration classes share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spectranet.engine.options import CLASS_WEIGHTS, OPTIMIZERS, PRECISION_CHOICES, SCHEDULERS
from spectranet.validation import check_choice, check_positive, check_seeds

if TYPE_CHECKING:
    from spectranet.config.audio import AudioConfig
    from spectranet.config.hsi import HSIConfig

__all__ = ["PRESETS", "SAMPLINGS", "VALIDATIONS", "HSI_VALIDATIONS", "STEM_INITS", "STEM_MODELS",
           "VAL_WINDOWS", "BASELINES", "CLASS_WEIGHTS", "OPTIMIZERS", "PRECISION_CHOICES",
           "SCHEDULERS", "check_training"]

PRESETS = ("paper", "standard", "quick")
#: Allowed values of the pipelines' own options (the engine's come from engine.options).
SAMPLINGS = ("windows", "clips")
VALIDATIONS = ("fold", "none", "group")
HSI_VALIDATIONS = ("split", "monitor", "none")
STEM_INITS = ("random", "pca")
STEM_MODELS = ("fast3dcnn_stem", "fast3dcnn_stem_pixel")  # models with a learned stem
VAL_WINDOWS = ("all", "middle")
BASELINES = ("none", "rf", "svm", "ufl")


def check_training(cfg: HSIConfig | AudioConfig) -> None:
    """Validate the training options that both domains share (optimizer, epochs, seeds...)."""
    check_choice("optimizer", cfg.optimizer, OPTIMIZERS)
    check_positive("lr", cfg.lr)
    check_positive("batch_size", cfg.batch_size, integer=True)
    check_positive("epochs", cfg.epochs, integer=True)
    if cfg.steps is not None:
        check_positive("steps", cfg.steps, integer=True)
    check_choice("precision", cfg.precision, PRECISION_CHOICES)
    check_positive("weight_decay", cfg.weight_decay, allow_zero=True)
    check_choice("scheduler", cfg.scheduler, SCHEDULERS)
    check_choice("class_weight", cfg.class_weight, CLASS_WEIGHTS)
    check_seeds(cfg.seeds)
