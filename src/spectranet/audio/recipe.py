"""The parts of a sound recipe that a run and the estimator build alike.

:func:`spectranet.audio.pipeline.train` (run folders) and
:class:`spectranet.audio.estimator.SoundClassifier` (arrays in memory) both turn an
:class:`~spectranet.config.AudioConfig` into the engine's training options through
:func:`fit_options`, so that a preset means the same recipe in both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from spectranet.config import AudioConfig
from spectranet.engine.optim import make_loss, make_optimizer, make_scheduler, training_epochs

__all__ = ["fit_options"]


def fit_options(config: AudioConfig, model: nn.Module, train_labels: np.ndarray,
                n_classes: int, *, batches_per_epoch: int) -> dict[str, Any]:
    """The recipe's keyword arguments of :func:`spectranet.engine.training.fit`.

    Optimizer (on ``model``'s parameters, with the recipe's momentum), epochs
    (``config.epochs``, or as many as ``config.steps`` need at ``batches_per_epoch``
    training batches per epoch: see :func:`~spectranet.engine.optim.training_epochs`), the
    learning-rate schedule over those epochs, the training loss (class weights from
    ``train_labels``, label smoothing) and mixup.
    """
    optimizer = make_optimizer(model.parameters(), name=config.optimizer, lr=config.lr,
                               momentum=config.momentum, nesterov=config.nesterov,
                               weight_decay=config.weight_decay)
    epochs = training_epochs(config.epochs, config.steps, batches_per_epoch)
    return {
        "optimizer": optimizer,
        "epochs": epochs,
        "scheduler": make_scheduler(optimizer, name=config.scheduler, epochs=epochs),
        "loss_fn": make_loss(config.class_weight, train_labels, n_classes,
                             label_smoothing=config.label_smoothing),
        "mixup": config.mixup,
    }
