"""The fit loop: optimiser, epochs, best-on-validation checkpoint, resume, seeds, progress.

The loop only knows tensors: every batch is a dict ``{"x", "y", "id"}``. It never plots and never
reads files other than its own checkpoint.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from spectranet.engine.runs import atomic_write_bytes
from spectranet.errors import ConfigError

__all__ = [
    "FitResult",
    "seed_everything",
    "make_optimizer",
    "fit",
    "train_one_epoch",
    "evaluate",
    "predict_proba",
    "autocast",
    "load_checkpoint",
    "PRECISIONS",
]

PRECISIONS = ("fp32", "bf16")
Batch = Mapping[str, torch.Tensor]


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    history : list of dict
        One dict per epoch: ``epoch`` (1-based), ``train_loss``, ``train_accuracy``,
        ``val_loss``, ``val_accuracy``, ``seconds``.
    best_epoch : int
        Epoch whose weights were kept (highest validation accuracy, first on ties).
    best_val_accuracy : float
    train_seconds : float
        Wall time spent in training and validation, summed over epochs (resumed ones included).
    """

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_accuracy: float = -1.0
    train_seconds: float = 0.0


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded with ``seed``.

    Parameters
    ----------
    seed : int >= 0
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return torch.Generator().manual_seed(int(seed))


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
    raise ConfigError(f"optimizer must be one of 'adam', 'adamw', 'sgd', got {name!r}")


def autocast(precision: str, device: str | torch.device = "cpu") -> AbstractContextManager[Any]:
    """Autocast context for ``precision`` ("fp32": none; "bf16": bfloat16 mixed precision)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def _to(batch: Batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return batch["x"].to(device, non_blocking=True), batch["y"].to(device, non_blocking=True)


def _batches(loader: Iterable[Batch], progress: bool, desc: str) -> Iterator[Batch]:
    total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    return iter(tqdm(loader, desc=desc, total=total, leave=False, disable=not progress))


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[Batch],
    optimizer: torch.optim.Optimizer,
    *,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    loss_fn: nn.Module | None = None,
    progress: bool = False,
) -> tuple[float, float]:
    """One pass over ``loader`` with gradient steps; returns (mean loss, accuracy)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = torch.device(device)
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for batch in _batches(loader, progress, "batches"):
        x, y = _to(batch, device)
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, device):
            logits = model(x)
            loss = loss_fn(logits.float(), y)
        loss.backward()
        optimizer.step()
        total_loss += float(loss.detach()) * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    if seen == 0:
        raise ConfigError("the training loader yielded no samples")
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    loss_fn: nn.Module | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader`` (eval mode, no gradients)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = torch.device(device)
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for batch in loader:
        x, y = _to(batch, device)
        with autocast(precision, device):
            logits = model(x)
        total_loss += float(loss_fn(logits.float(), y)) * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    if seen == 0:
        raise ConfigError("the validation loader yielded no samples")
    return total_loss / seen, correct / seen


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities for every sample of ``loader``.

    Returns
    -------
    probabilities : ndarray, shape (n, n_classes), float32
    ids : ndarray, shape (n,), int64
        The samples' ``id`` entries, in loader order.
    """
    device = torch.device(device)
    model.eval()
    probs, ids = [], []
    for batch in _batches(loader, progress, "predict"):
        with autocast(precision, device):
            logits = model(batch["x"].to(device))
        probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        ids.append(np.asarray(batch["id"]).astype(np.int64).ravel())
    if not probs:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate(probs).astype(np.float32), np.concatenate(ids)


def _rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def _save(obj: dict[str, Any], path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`fit` (on the CPU)."""
    return torch.load(Path(path), map_location="cpu", weights_only=False)


def fit(
    model: nn.Module,
    train_loader: Iterable[Batch],
    val_loader: Iterable[Batch],
    *,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    checkpoint_path: str | Path | None = None,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    metadata: dict[str, Any] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> FitResult:
    """Train ``model`` for ``epochs`` epochs and keep the best weights on validation.

    After every epoch the model is scored on ``val_loader``; the weights with the highest
    validation accuracy are kept and loaded into ``model`` on return. With ``checkpoint_path``,
    a resumable state (model, optimiser, epoch, history, RNG states) is written atomically after
    every epoch and a call with the same path resumes from it; when training ends the file keeps
    only the best weights, the history and ``metadata`` (class names, input shape, config...).

    Loaders whose ``set_epoch(epoch)`` method exists get it called before each epoch, so that a
    seeded shuffle depends on the epoch and not on how many epochs ran in this process.

    Parameters
    ----------
    model : nn.Module
        Maps ``batch["x"]`` to logits of shape (n, n_classes).
    train_loader, val_loader : iterable of dict batches
    optimizer : torch.optim.Optimizer
    epochs : int >= 1
    checkpoint_path : path-like, optional
    device : str, default "cpu"
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" runs forward passes under bfloat16 autocast.
    metadata : dict, optional
        Stored in the checkpoint under ``"metadata"``.
    progress : bool, default True
        Progress bars for epochs and batches.
    desc : str
        Label of the epoch progress bar.

    Returns
    -------
    FitResult
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be an integer >= 1, got {epochs!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    device = torch.device(device)
    model.to(device)
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    result = FitResult()
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    start = 0
    if path is not None and path.is_file():
        state = load_checkpoint(path)
        if "resume" in state:
            model.load_state_dict(state["resume"]["model"])
            optimizer.load_state_dict(state["resume"]["optimizer"])
            _set_rng_state(state["resume"]["rng"])
            start = state["resume"]["epoch"]
        else:  # finished run: nothing left to train
            start = epochs
            model.load_state_dict(state["model"])
        best_state = state["model"]
        result = FitResult(
            history=state["history"],
            best_epoch=state["best_epoch"],
            best_val_accuracy=state["best_val_accuracy"],
            train_seconds=state["train_seconds"],
        )
    bar = tqdm(range(start, epochs), desc=desc, disable=not progress, initial=start, total=epochs)
    for epoch in bar:
        tic = time.perf_counter()
        for loader in (train_loader, val_loader):
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
        train_loss, train_acc = train_one_epoch(
            model, train_loader, optimizer, device=device, precision=precision, progress=progress
        )
        val_loss, val_acc = evaluate(model, val_loader, device=device, precision=precision)
        seconds = time.perf_counter() - tic
        result.train_seconds += seconds
        result.history.append(
            {
                "epoch": epoch + 1,
                "train_loss": train_loss,
                "train_accuracy": train_acc,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "seconds": seconds,
            }
        )
        if val_acc > result.best_val_accuracy:
            result.best_val_accuracy, result.best_epoch = val_acc, epoch + 1
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        bar.set_postfix(loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}")
        if path is not None and epoch + 1 < epochs:
            _save(
                _final_state(result, best_state, metadata)
                | {
                    "resume": {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "epoch": epoch + 1,
                        "rng": _rng_state(),
                    }
                },
                path,
            )
    model.load_state_dict(best_state)
    if path is not None:
        _save(_final_state(result, best_state, metadata), path)
    return result


def _final_state(
    result: FitResult, best_state: dict[str, torch.Tensor], metadata: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "model": best_state,
        "history": result.history,
        "best_epoch": result.best_epoch,
        "best_val_accuracy": result.best_val_accuracy,
        "train_seconds": result.train_seconds,
        "metadata": metadata or {},
    }
