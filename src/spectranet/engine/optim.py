"""Optimisers, learning-rate schedules and losses, built from configuration values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from spectranet.engine.options import CLASS_WEIGHTS, OPTIMIZERS, SCHEDULERS
from spectranet.errors import ConfigError

__all__ = ["CLASS_WEIGHTS", "make_loss", "make_optimizer", "make_scheduler", "schedule_text",
           "training_epochs", "fit_options"]


def make_optimizer(
    params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    *,
    name: str = "adam",
    lr: float = 1e-3,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """Build an optimiser by name.

    Parameters
    ----------
    params : iterable
        The model's parameters.
    name : {"adam", "adamw", "sgd"}, default "adam"
    lr : float > 0, default 1e-3
    momentum : float in [0, 1), default 0.0
        SGD only.
    nesterov : bool, default False
        SGD only; needs ``momentum > 0``.
    weight_decay : float >= 0, default 0.0
    """
    if lr <= 0:
        raise ConfigError(f"learning rate must be > 0, got {lr}")
    if not 0 <= momentum < 1:
        raise ConfigError(f"momentum must be in [0, 1), got {momentum}")
    if weight_decay < 0:
        raise ConfigError(f"weight_decay must be >= 0, got {weight_decay}")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        if nesterov and momentum <= 0:
            raise ConfigError("nesterov momentum needs momentum > 0")
        return torch.optim.SGD(
            params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )
    raise ConfigError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, "
                      f"got {name!r}")


def make_scheduler(
    optimizer: torch.optim.Optimizer, *, name: str = "none", epochs: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Learning-rate schedule stepped once per epoch by :func:`fit`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    name : {"none", "cosine", "onecycle"}, default "none"
        "cosine": cosine annealing from the initial rate to 0 over ``epochs``.
        "onecycle": Smith's one-cycle policy (:class:`torch.optim.lr_scheduler.OneCycleLR`,
        defaults): warm-up from rate/25 to the optimiser's rate over the first 30 % of the
        epochs, then cosine annealing to rate/25e4; Adam's beta1 (or SGD's momentum) cycles
        between 0.85 and 0.95 in the opposite direction. With fewer than 4 epochs no epoch
        falls in the warm-up, and a single epoch runs at the final rate.
    epochs : int >= 1
    """
    if name == "none":
        return None
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "onecycle":
        peak = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak, total_steps=epochs)
    raise ConfigError(f"scheduler must be one of {', '.join(map(repr, SCHEDULERS))}, "
                      f"got {name!r}")

def training_epochs(epochs: int, steps: int | None, batches_per_epoch: int) -> int:
    """Epochs to train: ``epochs``, or as many as ``steps`` optimisation steps need.

    A recipe that fixes ``steps`` trains a small training set as long as a large one: with
    ``b`` batches per epoch it runs ``ceil(steps / b)`` epochs, so at least ``steps`` steps
    (at most ``b - 1`` more). Epochs stay the unit of validation, checkpoints and schedules.

    Parameters
    ----------
    epochs : int >= 1
        Used when ``steps`` is None.
    steps : int >= 1 or None
        Optimisation steps (batches) the recipe fixes.
    batches_per_epoch : int >= 1
        Batches of one training epoch (``len(train_loader)``).

    Examples
    --------
    >>> training_epochs(50, None, 21)
    50
    >>> training_epochs(50, 1050, 21), training_epochs(50, 1050, 4), training_epochs(50, 5, 8)
    (50, 263, 1)
    """
    if isinstance(batches_per_epoch, bool) or not isinstance(batches_per_epoch, int) \
            or batches_per_epoch < 1:
        raise ConfigError(f"batches_per_epoch must be an integer >= 1, got {batches_per_epoch!r}")
    if steps is None:
        return epochs
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be an integer >= 1, got {steps!r}")
    return -(-steps // batches_per_epoch)


def schedule_text(epochs: int, steps: int | None, epochs_run: Sequence[int]) -> str:
    """How long a run trained, for reports: ``"50 epochs"`` or steps with the epochs they took.

    >>> schedule_text(50, None, [50, 50])
    '50 epochs'
    >>> schedule_text(50, 1050, [263, 270])
    '1050 optimisation steps (263-270 epochs)'
    """
    if steps is None:
        return f"{epochs} epochs"
    low, high = min(epochs_run), max(epochs_run)
    return f"{steps} optimisation steps ({low if low == high else f'{low}-{high}'} epochs)"


def make_loss(
    class_weight: str = "none", labels: np.ndarray | None = None, n_classes: int | None = None,
    *, label_smoothing: float = 0.0,
) -> nn.CrossEntropyLoss:
    """Cross-entropy loss, optionally weighted per class and with label smoothing.

    Parameters
    ----------
    class_weight : {"none", "balanced"}, default "none"
        "balanced": weight ``n_samples / (n_present * count_c)`` for each class present in
        ``labels``, as ``sklearn.utils.class_weight.compute_class_weight("balanced")``, so
        every class contributes equally to the training loss; classes absent from ``labels``
        get weight 0 (they have no samples).
    labels : ndarray of int, shape (n_samples,)
        Training labels in ``[0, n_classes)``; required for "balanced".
    n_classes : int
        Required for "balanced".
    label_smoothing : float in [0, 1), default 0.0
        Share of the target mass spread uniformly over the classes (Szegedy et al. 2016).
    """
    if class_weight not in CLASS_WEIGHTS:
        raise ConfigError(f"class_weight must be one of {CLASS_WEIGHTS}, got {class_weight!r}")
    if not 0 <= label_smoothing < 1:
        raise ConfigError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
    if class_weight == "none":
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    if labels is None or n_classes is None:
        raise ConfigError("class_weight='balanced' needs the training labels and n_classes")
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(labels)
    if labels.size == 0 or labels.min() < 0 or labels.max() >= n_classes:
        raise ConfigError(f"labels must be non-empty and in [0, {n_classes}), got "
                          f"{labels.size} labels")
    present = np.unique(labels)
    weights = np.zeros(n_classes, dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=labels)
    return nn.CrossEntropyLoss(weight=torch.from_numpy(weights), label_smoothing=label_smoothing)


def fit_options(config: Any, model: nn.Module, train_labels: np.ndarray, n_classes: int, *,
                batches_per_epoch: int) -> dict[str, Any]:
    """A recipe's keyword arguments of :func:`spectranet.engine.training.fit`, from its settings.

    Optimizer (on ``model``'s parameters), epochs (``config.epochs``, or as many as
    ``config.steps`` need at ``batches_per_epoch`` training batches per epoch: see
    :func:`training_epochs`), the learning-rate schedule over those epochs, the training loss
    (class weights from ``train_labels``, label smoothing) and mixup.

    Parameters
    ----------
    config : object
        A domain's configuration (:class:`~spectranet.config.HSIConfig`,
        :class:`~spectranet.config.AudioConfig`): ``optimizer``, ``lr``, ``weight_decay``,
        ``epochs``, ``steps``, ``scheduler``, ``class_weight``, ``label_smoothing``, ``mixup``
        and, where it has them, ``momentum`` and ``nesterov`` (default 0 and False).
    model : torch.nn.Module
    train_labels : int ndarray, shape (N,)
    n_classes : int
    batches_per_epoch : int >= 1
        ``len(train_loader)``.
    """
    optimizer = make_optimizer(model.parameters(), name=config.optimizer, lr=config.lr,
                               momentum=getattr(config, "momentum", 0.0),
                               nesterov=getattr(config, "nesterov", False),
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
