"""The fit loop: optimiser, epochs, best-on-validation checkpoint, resume, seeds, progress.

The loop only knows tensors: every batch is a dict ``{"x", "y", "id"}``. It never plots and never
reads files other than its own checkpoint.

Optimisers, schedules and losses are built by :mod:`spectranet.engine.optim`. Precision and
memory layout (bf16 autocast, channels-last) live in
:mod:`spectranet.engine.precision`; ``autocast``, ``PRECISIONS`` and ``MEMORY_FORMATS`` are
re-exported here.

Under ``torchrun`` :func:`fit` trains one model with all processes
(:mod:`spectranet.engine.distributed`). One epoch (the training pass with mixup, the validation
sums) is :mod:`spectranet.engine.epochs`; ``train_one_epoch`` and ``DivergedError`` are
re-exported here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from spectranet.engine import distributed as dist
from spectranet.engine.checkpoints import (
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from spectranet.engine.epochs import Batch, DivergedError, EpochStep, train_one_epoch
from spectranet.engine.precision import PRECISIONS, memory_layouts, weights_in
from spectranet.engine.progress import bar, interactive, line
from spectranet.errors import ConfigError

__all__ = ["DivergedError", "FitResult", "KEEPS", "seed_everything", "fit", "train_one_epoch"]

#: Which epoch's weights :func:`fit` keeps: the best on validation, or the last.
KEEPS = ("best", "last")


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


def fit(
    model: nn.Module,
    train_loader: Iterable[Batch],
    val_loader: Iterable[Batch] | None,
    *,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    checkpoint_path: str | Path | None = None,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    metadata: dict[str, Any] | None = None,
    progress: bool = True,
    desc: str = "train",
    memory_format: str = "auto",
    loss_fn: nn.Module | None = None,
    mixup: float = 0.0,
    log: Callable[[str], None] | None = None,
    keep: str = "best",
) -> FitResult:
    """Train ``model`` for ``epochs`` epochs and keep the best weights on validation.

    After every epoch the model is scored on ``val_loader``; the weights with the highest
    validation accuracy are kept and loaded into ``model`` on return. With ``checkpoint_path``,
    a resumable state (model, optimiser, epoch, history, RNG states) is written atomically after
    every epoch and a call with the same path resumes from it; when training ends the file keeps
    only the best weights, the history and ``metadata`` (class names, input shape, config...).

    Loaders whose ``set_epoch(epoch)`` method exists get it called before each epoch, so that a
    seeded shuffle depends on the epoch and not on how many epochs ran in this process.

    Under ``torchrun --nproc_per_node N`` the same call trains one model with N processes: the
    process group is created from the environment, the model is wrapped in
    DistributedDataParallel, each rank trains on every N-th batch of the (identically seeded)
    training loader and scores every N-th validation batch, losses and accuracies are summed
    over the ranks, so every rank keeps the same weights and history; only rank 0 writes the
    checkpoint and shows progress bars.

    Parameters
    ----------
    model : nn.Module
        Maps ``batch["x"]`` to logits of shape (n, n_classes).
    train_loader, val_loader : iterable of dict batches
        ``val_loader=None``: no validation; the weights of the last epoch are kept (a fixed
        schedule), and the history's ``val_loss`` and ``val_accuracy`` are None.
    optimizer : torch.optim.Optimizer
    epochs : int >= 1
    scheduler : LRScheduler, optional
        Stepped after every epoch (see :func:`make_scheduler`); its state is checkpointed.
    checkpoint_path : path-like, optional
    device : str, default "cpu"
        Under torchrun, "cuda" means each process's own GPU (``LOCAL_RANK``).
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" runs forward passes under bfloat16 autocast (on CPU, training keeps
        convolutions with one input channel in float32: faster, see the module docstring).
    metadata : dict, optional
        Stored in the checkpoint under ``"metadata"``.
    progress : bool, default True
        Progress bars for epochs and batches on a terminal; when standard error is a file or a
        pipe, one line per epoch instead (and a line when resuming).
    desc : str
        Label of the epoch progress bar.
    memory_format : {"auto", "contiguous", "channels_last"}, default "auto"
        Layout of 4-D (and 5-D) inputs and weights during training. "auto": channels-last for
        4-D tensors under bf16, contiguous otherwise (what measured fastest on CPU);
        "channels_last": channels-last for 4-D and channels-last-3d for 5-D tensors. The
        model's weights are back in contiguous layout on return.
    loss_fn : nn.Module, optional
        Training loss on float32 logits (default: plain cross-entropy, see :func:`make_loss`);
        the validation loss in the history is always the plain cross-entropy.
    mixup : float >= 0, default 0.0
        Mixup (Zhang et al. 2018) with Beta(mixup, mixup) weights: each training batch is
        mixed with a permutation of itself and the loss weighted alike; 0 turns it off. The
        weights and permutations come from torch's global generator (seeded, checkpointed).
        Training accuracy is then counted against the unpermuted labels.
    log : callable, optional
        Receives the resumption line and one line per epoch whatever ``progress`` is (e.g. a
        run folder's ``run.log``).
    keep : {"best", "last"}, default "best"
        The weights returned and checkpointed: those of the epoch with the highest validation
        accuracy, or those of the last epoch (validation still scored every epoch: the curve
        without early stopping; ``best_val_accuracy`` is then the last epoch's).

    Returns
    -------
    FitResult
    """
    _check_fit(epochs, precision, mixup, keep)
    layouts = memory_layouts(memory_format, precision)
    dist.init_from_env()
    rank, world = dist.rank(), dist.world_size()
    main, progress = rank == 0, progress and rank == 0
    device = dist.local_device(device)
    model.to(device)
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    result, best_state, start = _resume(model, optimizer, scheduler, path, epochs)
    train_loader, val_loader = _shard(train_loader, val_loader, rank, world)
    say = _sayer(progress, log if main else None)
    if start:
        say(f"{desc}: resuming from epoch {start} of {epochs}")
    step = EpochStep(model, optimizer, scheduler, device, precision, layouts, loss_fn, mixup,
                      progress)
    epoch_bar = bar(range(start, epochs), desc=desc, enabled=progress, initial=start,
                    total=epochs)
    with weights_in(model, layouts):
        net = dist.wrap_model(model)
        for epoch in epoch_bar:
            record = step.run(net, train_loader, val_loader, epoch)
            result.train_seconds += record["seconds"]
            result.history.append(record)
            improved = _keep_epoch(result, record, keep)
            checkpoint = path is not None and main and epoch + 1 < epochs
            # one copy serves both; torch.save stores the shared tensors once
            current = _cpu_copy(model.state_dict()) if improved or checkpoint else None
            best_state = current if improved else best_state
            _show_epoch(epoch_bar, say, desc, epochs, record)
            if checkpoint:
                resume = _resume_state(current, optimizer, scheduler, epoch + 1)
                save_checkpoint(_final_state(result, best_state, metadata) | {"resume": resume},
                                path)
    model.load_state_dict(best_state)
    if path is not None and main:
        save_checkpoint(_final_state(result, best_state, metadata), path)
    dist.barrier()  # other ranks return once the checkpoint is written
    return result


def _check_fit(epochs: Any, precision: Any, mixup: Any, keep: Any) -> None:
    """Raise :class:`ConfigError` for a bad ``epochs``, ``precision``, ``mixup`` or ``keep``."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be an integer >= 1, got {epochs!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if isinstance(mixup, bool) or not isinstance(mixup, (int, float)) or mixup < 0:
        raise ConfigError(f"mixup must be a number >= 0, got {mixup!r}")
    if keep not in KEEPS:
        raise ConfigError(f"keep must be one of {KEEPS}, got {keep!r}")


def _shard(
    train_loader: Iterable[Batch], val_loader: Iterable[Batch] | None, rank: int, world: int
) -> tuple[Iterable[Batch], Iterable[Batch] | None]:
    """Under torchrun, every ``world``-th batch from ``rank`` on; else the loaders as they are."""
    if world > 1:
        train_loader = dist.ShardedBatches(train_loader, rank, world)
        if val_loader is not None:
            val_loader = dist.ShardedBatches(val_loader, rank, world, pad=False)
    return train_loader, val_loader


def _sayer(progress: bool, log: Callable[[str], None] | None) -> Callable[[str], None]:
    """Where fit's resumption and epoch lines go: standard error when it is no terminal, ``log``."""
    lines = progress and not interactive()  # a log file gets one line per epoch, not bar frames

    def say(message: str) -> None:
        if lines:
            line(message)
        if log is not None:
            log(message)

    return say


def _keep_epoch(result: FitResult, record: Mapping[str, Any], keep: str) -> bool:
    """Whether the epoch of ``record`` is the one kept so far; if so, note it in ``result``."""
    val_acc = record["val_accuracy"]
    # without validation the last epoch is kept (a fixed schedule)
    if not (keep == "last" or val_acc is None or val_acc > result.best_val_accuracy):
        return False
    result.best_epoch = record["epoch"]
    if val_acc is not None:
        result.best_val_accuracy = val_acc
    return True


def _show_epoch(epoch_bar: Any, say: Callable[[str], None], desc: str, epochs: int,
                record: Mapping[str, Any]) -> None:
    """The epoch bar's figures and the epoch's line."""
    val_acc, loss = record["val_accuracy"], record["train_loss"]
    shown = "-" if val_acc is None else f"{val_acc:.3f}"
    epoch_bar.set_postfix(loss=f"{loss:.3f}", val_acc=shown)
    say(f"{desc}: epoch {record['epoch']}/{epochs} loss {loss:.3f} val_acc {shown} "
        f"({record['seconds']:.1f} s)")


def _resume_state(
    weights: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    epochs_done: int,
) -> dict[str, Any]:
    """The checkpoint's ``"resume"`` entry: what a rerun needs to go on after ``epochs_done``."""
    return {
        "model": weights,
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "epoch": epochs_done,
        "rng": rng_state(),
    }


def _cpu_copy(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU copies of a state dict's tensors."""
    return {k: v.detach().cpu().clone(memory_format=torch.contiguous_format)
            for k, v in state.items()}


def _resume(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    path: Path | None,
    epochs: int,
) -> tuple[FitResult, dict[str, torch.Tensor], int]:
    """Load ``path`` if it exists; return (result so far, best weights, first epoch to run)."""
    if path is None or not path.is_file():
        return FitResult(), _cpu_copy(model.state_dict()), 0
    state = load_checkpoint(path)
    if "resume" in state:
        model.load_state_dict(state["resume"]["model"])
        optimizer.load_state_dict(state["resume"]["optimizer"])
        if scheduler is not None and state["resume"].get("scheduler") is not None:
            scheduler.load_state_dict(state["resume"]["scheduler"])
        set_rng_state(state["resume"]["rng"])
        start = state["resume"]["epoch"]
    else:  # finished run: nothing left to train
        start = epochs
        model.load_state_dict(state["model"])
    result = FitResult(
        history=state["history"],
        best_epoch=state["best_epoch"],
        best_val_accuracy=state["best_val_accuracy"],
        train_seconds=state["train_seconds"],
    )
    return result, state["model"], start


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
