"""Scoring without gradients: mean loss and accuracy on a loader, class probabilities.

The forward pass under a precision and memory layout (:func:`logits_of`) is shared with the
training loop of :mod:`spectranet.engine.training`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import torch
from torch import nn

from spectranet.engine.precision import Layouts, autocast, memory_layouts, prepared, to_input
from spectranet.engine.progress import bar
from spectranet.errors import ConfigError

__all__ = ["evaluate", "predict_proba", "logits_of", "batches_of", "score_sums"]

Batch = Mapping[str, torch.Tensor]


def logits_of(
    model: nn.Module, batch: Batch, device: torch.device, precision: str, layouts: Layouts
) -> torch.Tensor:
    """Forward pass of one batch under ``precision``, returning float32 logits."""
    with autocast(precision, device):
        return model(to_input(batch["x"], device, layouts)).float()


def batches_of(loader: Iterable[Batch], progress: bool, desc: str) -> Iterator[Batch]:
    """Iterate ``loader`` with a progress bar (on a terminal, when ``progress``)."""
    total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    return iter(bar(loader, desc=desc, enabled=progress, total=total, leave=False))


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    loss_fn: nn.Module | None = None,
    memory_format: str = "auto",
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader`` (eval mode, no gradients)."""
    total_loss, correct, seen = score_sums(
        model, loader, device=torch.device(device), precision=precision, loss_fn=loss_fn,
        layouts=memory_layouts(memory_format, precision),
    )
    if seen == 0:
        raise ConfigError("the validation loader yielded no samples")
    return total_loss / seen, correct / seen


@torch.no_grad()
def score_sums(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    device: torch.device,
    precision: str,
    loss_fn: nn.Module | None,
    layouts: Layouts,
) -> tuple[float, int, int]:
    """Score ``model`` on ``loader``; return (summed loss, correct predictions, samples)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with prepared(model, precision, device, layouts, training=False):
        for batch in loader:
            y = batch["y"].to(device, non_blocking=True)
            logits = logits_of(model, batch, device, precision, layouts)
            total_loss += float(loss_fn(logits, y)) * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
    return total_loss, correct, seen


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    progress: bool = False,
    memory_format: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities for every sample of ``loader``.

    ``precision`` and ``memory_format`` are those of :func:`fit`.

    Returns
    -------
    probabilities : ndarray, shape (n, n_classes), float32
    ids : ndarray, shape (n,), int64
        The samples' ``id`` entries, in loader order.
    """
    device = torch.device(device)
    layouts = memory_layouts(memory_format, precision)
    model.eval()
    probs, ids = [], []
    with prepared(model, precision, device, layouts, training=False):
        for batch in batches_of(loader, progress, "predict"):
            logits = logits_of(model, batch, device, precision, layouts)
            probs.append(torch.softmax(logits, dim=1).cpu().numpy())
            ids.append(np.asarray(batch["id"]).astype(np.int64).ravel())
    if not probs:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate(probs).astype(np.float32), np.concatenate(ids)
