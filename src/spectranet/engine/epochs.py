"""One epoch of training and validation, as :func:`spectranet.engine.training.fit` runs it.

:func:`train_one_epoch` is one training pass on its own; :class:`EpochStep` is fit's epoch:
the loaders' epoch set, a training pass (mixup included), the validation sums, the schedule
stepped, the history row. Losses and accuracies are summed over the ranks under torchrun.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from spectranet.engine import distributed as dist
from spectranet.engine.precision import Layouts, memory_layouts, prepared
from spectranet.engine.scoring import batches_of, logits_of, score_sums
from spectranet.errors import ConfigError, SpectranetError

__all__ = ["Batch", "DivergedError", "EpochStep", "train_one_epoch"]

Batch = Mapping[str, torch.Tensor]


class DivergedError(SpectranetError, ArithmeticError):
    """The training loss became NaN or infinite."""


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[Batch],
    optimizer: torch.optim.Optimizer,
    *,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    loss_fn: nn.Module | None = None,
    progress: bool = False,
    memory_format: str = "auto",
    mixup: float = 0.0,
) -> tuple[float, float]:
    """One pass over ``loader`` with gradient steps; returns (mean loss, accuracy).

    ``precision``, ``memory_format`` and ``mixup`` are those of
    :func:`~spectranet.engine.training.fit`.
    """
    total_loss, correct, seen = _train_sums(
        model, loader, optimizer, device=torch.device(device), precision=precision,
        loss_fn=loss_fn, progress=progress, layouts=memory_layouts(memory_format, precision),
        mixup=mixup,
    )
    if seen == 0:
        raise ConfigError("the training loader yielded no samples")
    return total_loss / seen, correct / seen


def _train_sums(
    model: nn.Module,
    loader: Iterable[Batch],
    optimizer: torch.optim.Optimizer,
    *,
    device: torch.device,
    precision: str,
    loss_fn: nn.Module | None,
    progress: bool,
    layouts: Layouts,
    mixup: float = 0.0,
) -> tuple[float, int, int]:
    """Train one pass; return (summed loss, correct predictions, samples)."""
    loss_fn = (loss_fn or nn.CrossEntropyLoss()).to(device)
    beta = torch.distributions.Beta(mixup, mixup) if mixup > 0 else None
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    with prepared(model, precision, device, layouts, training=True):
        for batch in batches_of(loader, progress, "batches"):
            y = batch["y"].to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            if beta is not None:  # mixup: a convex mix of two samples, their losses alike
                lam, perm = float(beta.sample()), torch.randperm(len(y))
                batch = dict(batch, x=lam * batch["x"] + (1 - lam) * batch["x"][perm])
            logits = logits_of(model, batch, device, precision, layouts)
            loss = loss_fn(logits, y)
            if beta is not None:
                loss = lam * loss + (1 - lam) * loss_fn(logits, y[perm.to(device)])
            value = float(loss.detach())
            if not math.isfinite(value):
                raise DivergedError(
                    f"training loss became {value} (precision {precision}); lower the "
                    "learning rate or train with --precision fp32"
                )
            loss.backward()
            optimizer.step()
            total_loss += value * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
    return total_loss, correct, seen


@dataclass(frozen=True)
class EpochStep:
    """What every epoch of one :func:`~spectranet.engine.training.fit` call trains and scores with.

    Attributes
    ----------
    model : nn.Module
        The model itself: validation scores it (training steps its DDP wrapper, if any).
    optimizer, scheduler, loss_fn, mixup, progress
        Those of ``fit``; ``scheduler`` (optional) is stepped after every epoch.
    device : torch.device
    precision : {"fp32", "bf16"}
    layouts : dict
        Memory format per tensor rank (:func:`spectranet.engine.precision.memory_layouts`).
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    device: torch.device
    precision: str
    layouts: Layouts
    loss_fn: nn.Module | None
    mixup: float
    progress: bool

    def run(self, net: nn.Module, train_loader: Iterable[Batch],
            val_loader: Iterable[Batch] | None, epoch: int) -> dict[str, Any]:
        """Epoch ``epoch`` (0-based): train, validate, step the schedule; its history row."""
        tic = time.perf_counter()
        for loader in (train_loader, val_loader):
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
        train_sums = self.train(net, train_loader)
        val_sums = self.validate(val_loader)
        train_loss, train_acc, val_loss, val_acc = _epoch_means(train_sums, val_sums)
        if self.scheduler is not None:
            self.scheduler.step()
        return {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "val_loss": val_loss,
            "val_accuracy": val_acc,
            "seconds": time.perf_counter() - tic,
        }

    def train(self, net: nn.Module, loader: Iterable[Batch]) -> tuple[float, int, int]:
        """One training pass of ``net`` (the model, or its DDP wrapper); the sums."""
        return _train_sums(
            net, loader, self.optimizer, device=self.device, precision=self.precision,
            loss_fn=self.loss_fn, progress=self.progress, layouts=self.layouts, mixup=self.mixup,
        )

    def validate(self, loader: Iterable[Batch] | None) -> tuple[float, int, int] | None:
        """The plain cross-entropy sums on ``loader``; None without validation."""
        if loader is None:
            return None
        return score_sums(self.model, loader, device=self.device, precision=self.precision,
                          loss_fn=None, layouts=self.layouts)


def _epoch_means(
    train_sums: tuple[float, int, int], val_sums: tuple[float, int, int] | None
) -> tuple[float, float, float | None, float | None]:
    """(train loss, train accuracy, val loss, val accuracy), summed over ranks when distributed.

    ``val_sums=None`` (no validation) gives None for the validation loss and accuracy.
    """
    t_loss, t_correct, t_seen, v_loss, v_correct, v_seen = dist.all_reduce_sums(
        [*train_sums, *(val_sums or (0.0, 0, 0))])
    if t_seen == 0:
        raise ConfigError("the training loader yielded no samples")
    if val_sums is None:
        return t_loss / t_seen, t_correct / t_seen, None, None
    if v_seen == 0:
        raise ConfigError("the validation loader yielded no samples")
    return t_loss / t_seen, t_correct / t_seen, v_loss / v_seen, v_correct / v_seen
