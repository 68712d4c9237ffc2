"""Multi-process training helpers: process group from ``torchrun``'s environment, DDP, sharding.

:func:`spectranet.engine.training.fit` uses these so that the same script trains one model with
several processes when launched as ``torchrun --nproc_per_node N script.py``:

- the process group is created from torchrun's environment variables (gloo on CPU, NCCL on
  GPU) the first time :func:`init_from_env` runs, and destroyed at exit;
- the model is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, which averages
  gradients so that every rank keeps identical weights;
- every rank iterates the same seeded, per-epoch shuffled loader and keeps one batch in
  ``world_size`` (:func:`shard_batches`), padded like
  :class:`~torch.utils.data.DistributedSampler` so that all ranks take the same number of steps;
- sums (losses, correct predictions, sample counts) are all-reduced (:func:`all_reduce_sums`).

Without torchrun (``WORLD_SIZE`` unset or 1) every helper is a no-op: rank 0 of a world of 1.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from spectranet.errors import ConfigError

__all__ = [
    "BACKENDS",
    "ShardedBatches",
    "all_reduce_sums",
    "barrier",
    "check_device",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "local_device",
    "rank",
    "shard",
    "shard_batches",
    "unwrap_model",
    "world_size",
    "wrap_model",
]

BACKENDS = ("gloo", "nccl")
#: Environment variables that ``torchrun`` sets for every process.
_TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")

T = TypeVar("T")


def is_distributed() -> bool:
    """Return True when a process group of more than one process is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """Return this process's rank in the process group (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Return the number of processes in the process group (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Return True on rank 0, the only rank that writes files (True when not distributed)."""
    return rank() == 0


def _launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(backend: str | None = None) -> bool:
    """Create the process group from ``torchrun``'s environment variables, once.

    Parameters
    ----------
    backend : {"gloo", "nccl"}, optional
        Default: "nccl" when CUDA is available, else "gloo".

    Returns
    -------
    bool
        True when this process is now part of a group of more than one process; False when
        the environment describes a single process (``WORLD_SIZE`` unset or 1).

    Raises
    ------
    ConfigError
        Unknown backend, "nccl" without CUDA, or a torchrun variable missing.

    Examples
    --------
    >>> init_from_env()   # in a plain ``python script.py``: nothing to do
    False
    """
    if backend is not None and backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if dist.is_available() and dist.is_initialized():
        return is_distributed()
    if not _launched_by_torchrun():
        return False
    missing = [name for name in _TORCHRUN_ENV if name not in os.environ]
    if missing:
        raise ConfigError(
            f"distributed run needs torchrun's environment variables, missing {missing}")
    if not dist.is_available():
        raise ConfigError("distributed run needs torch.distributed, unavailable in this build")
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise ConfigError("backend 'nccl' needs CUDA; use 'gloo' on CPU")
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend, init_method="env://")
    atexit.register(_destroy)
    return is_distributed()


def _destroy() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a :class:`torch.device`, checked to exist here before any work starts.

    Raises
    ------
    ConfigError
        Not a device name torch knows, or a CUDA device where none is available.
    """
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device must be 'cpu', 'cuda' or 'cuda:<index>', got {device!r}"
                          ) from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {str(device)!r} is not available: torch "
                              f"{torch.__version__} sees no CUDA GPU here; use --device cpu")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ConfigError(f"device {str(device)!r} is not available: "
                              f"{torch.cuda.device_count()} CUDA device(s) here")
    elif parsed.type != "cpu":
        raise ConfigError(f"device must be 'cpu', 'cuda' or 'cuda:<index>', got {device!r}")
    return parsed


def local_device(device: str | torch.device) -> torch.device:
    """``device``, with this process's GPU (``LOCAL_RANK``) when it is an unindexed CUDA device."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and is_distributed():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def wrap_model(model: nn.Module) -> nn.Module:
    """Wrap ``model`` in DistributedDataParallel when distributed; else return it unchanged.

    The model must already be on its device. DDP broadcasts rank 0's parameters and buffers
    at construction and averages gradients in ``backward``, so all ranks stay identical.
    """
    if not is_distributed() or isinstance(model, DistributedDataParallel):
        return model
    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap_model(model: nn.Module) -> nn.Module:
    """Return the module inside a DistributedDataParallel wrapper (else ``model`` itself)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def shard(indices: Sequence[int] | np.ndarray, rank: int, world: int) -> np.ndarray:
    """Return rank ``rank``'s share of ``indices``: every ``world``-th one, padded.

    Like :class:`~torch.utils.data.DistributedSampler`: the list is extended by repeating
    its start until its length is a multiple of ``world``, then rank ``r`` takes positions
    ``r, r + world, ...``. Every rank gets ``ceil(n / world)`` entries, so all ranks take the
    same number of steps.

    Parameters
    ----------
    indices : 1-D sequence of int
        E.g. a seeded permutation of the training samples, or batch numbers.
    rank : int in [0, world)
    world : int >= 1

    Returns
    -------
    ndarray of int64, shape (ceil(n / world),)

    Examples
    --------
    >>> shard(np.arange(5), 1, 2)
    array([1, 3, 0])
    """
    _check_rank(rank, world)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    n = indices.size
    if n == 0:
        return indices
    total = -(-n // world) * world
    padded = np.resize(indices, total)  # np.resize repeats from the start
    return padded[rank::world]


def _check_rank(rank: int, world: int) -> None:
    if isinstance(world, bool) or not isinstance(world, (int, np.integer)) or world < 1:
        raise ConfigError(f"world must be an integer >= 1, got {world!r}")
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < world:
        raise ConfigError(f"rank must be an integer in [0, {world}), got {rank!r}")


def shard_batches(batches: Iterable[T], rank: int, world: int) -> Iterator[T]:
    """Stream this rank's batches of ``batches``, with :func:`shard`'s order and padding.

    Batch ``i`` goes to rank ``i % world``; when the count is not a multiple of ``world``, the
    ranks left without a batch in the last round take batches from the start again (at most
    ``world - 1`` are kept in memory for this). The loader must yield the same batches on every
    rank, e.g. a shuffle seeded by (seed, epoch).
    """
    _check_rank(rank, world)
    head: list[T] = []
    n = 0
    for i, batch in enumerate(batches):
        if i < world - 1:
            head.append(batch)
        if i % world == rank:
            yield batch
        n = i + 1
    missing = (world - n % world) % world  # positions needed to complete the last round
    first = world - missing  # ranks >= first got nothing in the last round
    if n and missing and rank >= first:
        yield head[(rank - first) % len(head)]


class ShardedBatches:
    """A loader view yielding only this rank's batches (see :func:`shard_batches`).

    Loaders with an ``iter_batches(numbers)`` method (``ArrayBatches``, ``PatchBatches``)
    build only this rank's batches; others are iterated in full and filtered.

    Parameters
    ----------
    loader : iterable of batches
        Must yield the same sequence on every rank; its ``set_epoch`` is forwarded.
    rank : int in [0, world)
    world : int >= 1
    pad : bool, default True
        Pad the last round (training: equal step counts for DDP). False gives plain
        round-robin, each batch seen exactly once over all ranks (evaluation).
    """

    def __init__(self, loader: Iterable[Any], rank: int, world: int, *, pad: bool = True) -> None:
        _check_rank(rank, world)
        self.loader, self.rank, self.world, self.pad = loader, rank, world, pad

    def set_epoch(self, epoch: int) -> None:
        """Forward to the wrapped loader's ``set_epoch`` when it has one."""
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __len__(self) -> int:
        n = len(self.loader)  # type: ignore[arg-type]
        if self.pad:
            return -(-n // self.world)
        return len(range(self.rank, n, self.world))

    def __iter__(self) -> Iterator[Any]:
        if hasattr(self.loader, "iter_batches"):  # build only this rank's batches
            n = len(self.loader)  # type: ignore[arg-type]
            numbers = (shard(np.arange(n), self.rank, self.world) if self.pad
                       else range(self.rank, n, self.world))
            return self.loader.iter_batches(numbers)
        if self.pad:
            return shard_batches(self.loader, self.rank, self.world)
        return (b for i, b in enumerate(self.loader) if i % self.world == self.rank)


def all_reduce_sums(values: Sequence[float]) -> list[float]:
    """Sum ``values`` over all ranks (float64); returns them unchanged when not distributed."""
    if not is_distributed():
        return [float(v) for v in values]
    device = torch.device("cuda", torch.cuda.current_device()) if (
        dist.get_backend() == "nccl") else torch.device("cpu")
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().tolist()


def barrier() -> None:
    """Wait for every rank (no-op when not distributed)."""
    if is_distributed():
        dist.barrier()
