"""Checkpoints as plain data: tensors, numbers, strings, lists and dicts, with a recorded sha256.

A checkpoint is read with ``torch.load(weights_only=True)``, which refuses any pickled object
other than tensors and plain containers, so a checkpoint a user was given cannot run code. Its
sha256 is written beside it (``<name>.sha256``) and checked before loading, so a flipped or
truncated byte is an error instead of other weights. The checkpoint and its sum are two files:
the sum file is written first with both the new and the current sum, then the checkpoint is
moved into place, then the sum file keeps only the new sum; an interruption between the steps
leaves a pair that still verifies.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectranet.engine.runs import atomic_write_bytes, atomic_write_text
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = ["save_checkpoint", "load_checkpoint", "load_best_checkpoint", "rng_state",
           "set_rng_state", "sum_path", "update_metadata"]


def sum_path(path: str | Path) -> Path:
    """Where the sha256 of checkpoint ``path`` is recorded: ``<path>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` (plain data and tensors only) to ``path`` with its sha256.

    Raises
    ------
    ConfigError
        ``state`` holds something ``torch.load(weights_only=True)`` would refuse (a class
        instance, a NumPy array...): caught here rather than at the next load.
    """
    path = Path(path)
    buf = io.BytesIO()
    torch.save(state, buf)
    data = buf.getvalue()
    try:
        torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ConfigError(f"{path}: a checkpoint holds tensors and plain data only; "
                          f"{str(exc).splitlines()[0]}") from None
    new = _digest(data)
    old = _digest(path.read_bytes()) if path.is_file() else None
    atomic_write_text(sum_path(path), "\n".join(s for s in (new, old) if s) + "\n")
    atomic_write_bytes(path, data)
    atomic_write_text(sum_path(path), new + "\n")
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, on the CPU.

    Raises
    ------
    DataNotFoundError
        No such file.
    DataError
        Empty or truncated file, a sha256 other than the recorded one, no recorded sum, or
        content other than tensors and plain data (refused, never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such checkpoint")
    data = path.read_bytes()
    if not data:
        raise DataError(f"{path}: empty checkpoint; delete it (and its run's metrics.json) to "
                        "retrain")
    recorded = sum_path(path)
    if not recorded.is_file():
        raise DataError(f"{path}: no recorded sha256 ({recorded.name} is missing): not written "
                        "by this version of spectranet; retrain to get a checkpoint it can check")
    if _digest(data) not in recorded.read_text(encoding="ascii", errors="replace").split():
        raise DataError(f"{path}: sha256 differs from the one recorded when it was written "
                        "(corrupted or modified); retrain, or restore the original file")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DataError(f"{path}: refused, it holds objects other than tensors and plain data "
                        f"({str(exc).splitlines()[0][:120]})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as exc:
        raise DataError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None


def load_best_checkpoint(paths: Iterable[str | Path]) -> tuple[Path, dict[str, Any]]:
    """The checkpoint of ``paths`` with the highest ``best_val_accuracy`` (first on ties).

    Loads one file at a time and keeps only the best so far in memory; returns its path and
    its content.
    """
    best: tuple[Path, dict[str, Any]] | None = None
    for path in paths:
        state = load_checkpoint(path)
        if best is None or state["best_val_accuracy"] > best[1]["best_val_accuracy"]:
            best = (Path(path), state)
    if best is None:
        raise ConfigError("no checkpoint to load")
    return best


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch global random states as plain data and tensors.

    With CUDA in use, also every visible GPU's generator (``"cuda"``): dropout on a GPU draws
    from it, so a run resumed without it would not repeat the uninterrupted one.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(),
             "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states saved by :func:`rng_state` (the GPUs' where this process has them)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        for index, gpu_state in enumerate(state["cuda"][:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(gpu_state, index)


def update_metadata(path: str | Path, changes: dict[str, Any]) -> Path:
    """Rewrite a checkpoint with ``changes`` merged into its ``metadata`` (checked, then summed).

    For what a run settles after training, e.g. a post-processing weight chosen on validation
    with the trained model: the checkpoint then holds what ``evaluate`` and ``predict`` need.
    """
    state = load_checkpoint(path)
    state["metadata"] = dict(state.get("metadata") or {}) | changes
    return save_checkpoint(state, path)
