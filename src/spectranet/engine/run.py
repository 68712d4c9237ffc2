"""A run folder from its first check to its metrics, and back to its models.

This is the skeleton every pipeline shares.

:meth:`Run.open` makes the checks that need no training (the output folder, the identity of a
run already there), joins the process group under torchrun and, on rank 0 only, writes
``config.json``: the configuration, the data fingerprint, the environment and what the domain
adds to describe its data. The domain then trains its units (seeds, folds) in sub-folders;
:meth:`Run.finish` writes the report and, last, ``metrics.json``, which marks a finished run.

Afterwards :func:`best_model` loads the unit with the best validation accuracy (predict,
export) and :func:`rescore` scores every unit again (evaluate). The domain supplies how a
checkpoint's metadata becomes a model (``build``) and how a unit is scored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from spectranet.engine.checkpoints import load_best_checkpoint, load_checkpoint, sum_path
from spectranet.engine.distributed import init_from_env, is_main_process
from spectranet.engine.identity import check_identity, check_out_dir, read_run
from spectranet.engine.ownership import FolderLock, write_marker
from spectranet.engine.runs import RunDir, read_json
from spectranet.engine.training import seed_everything
from spectranet.errors import DataError, DataNotFoundError, SpectranetError

__all__ = ["Run", "Unit", "SavedModel", "environment", "best_model", "rescore", "model_from_state",
           "read_split"]

Builder = Callable[[dict[str, Any]], torch.nn.Module]

_SEED = re.compile(r"^seed_(\d+)$")


def environment() -> dict[str, Any]:
    """Python, torch, machine and torch threads of this process."""
    return {"python": platform.python_version(), "torch": torch.__version__,
            "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads()}


@dataclasses.dataclass
class Run:
    """An open run folder.

    Attributes
    ----------
    path : Path
        The run folder.
    folder : RunDir or None
        Its writer on rank 0; None on the other ranks, which train along and write nothing.
    """

    path: Path
    folder: RunDir | None
    lock: FolderLock | None = None

    @classmethod
    def open(cls, out: str | Path, config: Any, fingerprint: str, *, domain: str,
             describe: Mapping[str, Any] | None = None, distributed: bool = True,
             content: str | None = None) -> Run:
        """Check ``out``, then write ``config.json`` (rank 0).

        Parameters
        ----------
        out : path-like
            New, empty, or holding a run of the same configuration and data (resumed).
        config : dataclass
            The validated configuration; stored under ``config``.
        fingerprint : str
            The input data's fingerprint (:mod:`spectranet.engine.identity`).
        domain : {"hsi", "audio", "mfcc"}
            Stored as ``domain``: how :func:`~spectranet.engine.identity.read_run` tells runs
            apart.
        describe : mapping, optional
            Domain keys added to ``config.json`` (e.g. ``scene``, ``features``, ``classes``).
        distributed : bool, default True
            Join the torchrun process group (only rank 0 writes); False for runs that never
            train under torchrun.
        content : str, optional
            A fingerprint of the data's bytes where ``fingerprint`` covers less (a sound
            dataset's names and sizes); stored as ``content_fingerprint`` and checked.

        Raises
        ------
        ConfigError, DataError
            ``out`` cannot take the run: a folder of files spectranet did not write, another
            process writing it (its lock, :class:`~spectranet.engine.ownership.FolderLock`),
            a symbolic link in it, or another run (see
            :func:`~spectranet.engine.identity.check_identity`); nothing is written.
        """
        path = check_out_dir(out, marker="config.json")
        check_identity(path, config, fingerprint, content=content)
        if distributed:
            init_from_env()
        if distributed and not is_main_process():
            return cls(path, None)
        lock = FolderLock(path)
        try:
            check_identity(path, config, fingerprint, content=content)  # a run may have ended
            write_marker(path, "run", domain=domain, data_fingerprint=fingerprint)
            folder = RunDir(path)
            extra = {} if content is None else {"content_fingerprint": content}
            folder.write_json("config.json", {"domain": domain,
                                              "config": dataclasses.asdict(config),
                                              "data_fingerprint": fingerprint, **extra,
                                              "cwd": os.getcwd(),
                                              "environment": environment(),
                                              **(describe or {})})
            folder.log(f"{domain} run into {path}: data {fingerprint[:12]}..., configuration "
                       f"{json.dumps(dataclasses.asdict(config), default=str)}")
        except BaseException:
            lock.release()
            raise
        return cls(path, folder, lock)

    def log(self, message: str) -> None:
        """Append a line to the run's ``run.log`` (rank 0)."""
        if self.folder is not None:
            self.folder.log(message)

    def finish(self, metrics: dict[str, Any], report: str | None = None) -> dict[str, Any]:
        """Write ``report.md`` then ``metrics.json`` (rank 0); return ``metrics``.

        ``run.log`` gets what the command prints: the warnings in ``metrics["warnings"]``,
        the top-level numbers of ``metrics`` and the run folder.
        """
        if self.folder is not None:
            if report is not None:
                self.folder.write_text("report.md", report)
            self.folder.write_json("metrics.json", metrics)
            for caution in metrics.get("warnings") or []:
                self.folder.log(f"warning: {caution}")
            numbers = {k: v for k, v in metrics.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)}
            self.folder.log("finished: " + ", ".join(f"{k} {v:.4f}" for k, v in numbers.items())
                            + f"; run folder: {self.path}")
            self.folder.close()
        if self.lock is not None:
            self.lock.release()
        return metrics

    def finished_unit(self, name: str, *, needs: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The metrics of unit ``name`` when an earlier call finished it, else None.

        A unit is finished when its ``metrics.json`` (written last) and the files ``needs``
        exist.
        """
        folder = self.path / name
        if all((folder / f).is_file() for f in ("metrics.json", *needs)):
            return read_json(folder / "metrics.json")
        return None

    def unit(self, name: str, split: Mapping[str, Any], seed: int) -> Unit:
        """Start (or resume) unit ``name``, e.g. ``"seed_0"`` or ``"fold_1/seed_0"``.

        Rank 0 writes the unit's ``split.json`` (which samples train, validate, test) and its
        sha256 beside it (``split.json.sha256``, checked by :func:`read_split`); every random
        generator is seeded with ``seed``.
        """
        folder = RunDir(self.path / name, root=self.path) if self.folder is not None else None
        if folder is not None:
            written = folder.write_json("split.json", dict(split))
            folder.write_text(sum_path(written).name,
                              hashlib.sha256(written.read_bytes()).hexdigest() + "\n")
        seed_everything(seed)
        return Unit(self.path / name, folder)


def read_split(path: str | Path) -> dict[str, Any]:
    """A unit's ``split.json``, checked against the sha256 recorded beside it.

    Splits written before sums were recorded are read unchecked.

    Raises
    ------
    DataNotFoundError
        No such file (the unit did not start).
    DataError
        The file differs from the split the run wrote (edited or damaged), or is not JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: missing; the unit did not finish")
    recorded = sum_path(path)
    if recorded.is_file():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in recorded.read_text(encoding="ascii", errors="replace").split():
            raise DataError(f"{path}: sha256 differs from the one recorded when the run wrote "
                            "it (the split was edited or damaged); restore it, or retrain")
    split = read_json(path)
    if not isinstance(split, dict):
        raise DataError(f"{path}: not a split (expected a JSON object of index lists)")
    return split


@dataclasses.dataclass
class Unit:
    """One trained unit of a run (a seed; a test fold and a seed): its sub-folder.

    Attributes
    ----------
    path : Path
        The unit's folder; ``checkpoint`` is where ``fit`` keeps its resumable state.
    folder : RunDir or None
        Its writer on rank 0; None on the other ranks.
    """

    path: Path
    folder: RunDir | None

    @property
    def checkpoint(self) -> Path:
        """``<unit>/checkpoint.pt``."""
        return self.path / "checkpoint.pt"

    @property
    def log(self) -> Callable[[str], None] | None:
        """Appends to the unit's ``run.log`` (rank 0); None elsewhere (``fit(log=...)``)."""
        return None if self.folder is None else self.folder.log

    def finish(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Write the unit's ``metrics.json`` (rank 0), which marks it finished."""
        if self.folder is not None:
            self.folder.write_json("metrics.json", metrics)
            self.folder.close()
        return metrics


@dataclasses.dataclass(frozen=True)
class SavedModel:
    """A unit's model rebuilt from its checkpoint.

    Attributes
    ----------
    path : Path
        The checkpoint file (``<run>/<unit>/checkpoint.pt``).
    model : nn.Module
        Best-on-validation weights, in eval mode, on the CPU.
    metadata : dict
        What the domain stored with the weights (classes, preprocessing, seed...).
    train_seconds : float
        Training time of the unit, all epochs.
    """

    path: Path
    model: torch.nn.Module
    metadata: dict[str, Any]
    train_seconds: float


def model_from_state(state: Mapping[str, Any], domain: str, build: Builder,
                     path: str | Path = "checkpoint") -> SavedModel:
    """Rebuild the model of a loaded checkpoint ``state`` with the domain's ``build(metadata)``.

    Raises
    ------
    DataError
        The checkpoint was written by another domain.
    """
    meta = state["metadata"]
    if meta.get("domain") != domain:
        raise DataError(f"{path}: a checkpoint of a {meta.get('domain')!r} run, not {domain!r}")
    _check_shapes(state["model"], meta, build, path)
    model = build(meta)
    model.load_state_dict(state["model"])
    return SavedModel(Path(path), model.eval(), meta, float(state.get("train_seconds", 0.0)))


def _check_shapes(weights: Mapping[str, Any], meta: dict[str, Any], build: Builder,
                  path: str | Path) -> None:
    """Refuse metadata describing a model other than the checkpoint's weights, before building.

    The model is first built on PyTorch's "meta" device (shapes only, no memory), so metadata
    declaring, say, 10^9 classes is refused instead of allocating terabytes.
    """
    try:
        with torch.device("meta"):
            skeleton = build(meta)
    except SpectranetError:
        raise
    except Exception:  # a builder that cannot run on the meta device: checked by loading
        return
    for name, tensor in skeleton.state_dict().items():
        stored = weights.get(name)
        if not isinstance(stored, torch.Tensor) or tuple(stored.shape) != tuple(tensor.shape):
            got = "absent" if stored is None else f"{tuple(getattr(stored, 'shape', ()))}"
            raise DataError(f"{path}: the checkpoint's metadata describes {name} of shape "
                            f"{tuple(tensor.shape)} but its weights hold {got}; a damaged or "
                            "altered checkpoint")


def _checkpoints(run: str | Path, domain: str, pattern: str) -> list[Path]:
    """The checkpoints ``pattern`` matches; every unit it matches must have one.

    A unit started (its ``split.json``) but without its checkpoint, or a seed of the
    configuration with no unit at all, is refused rather than silently replaced by another
    seed's model.
    """
    run = Path(run)
    saved, _ = read_run(run, expect=domain)
    paths = sorted(run.glob(pattern))
    if not paths:
        raise DataNotFoundError(f"{run}: no {pattern} (the run did not finish a unit)")
    have = sorted({int(m[1]) for p in paths if (m := _SEED.search(p.parent.name))})
    hint = f"seeds with a checkpoint: {', '.join(map(str, have)) or 'none'}; give one with --seed"
    names = Path(pattern).name
    for split in sorted(run.glob(str(Path(pattern).with_name("split.json")))):
        if not (split.parent / names).is_file():
            raise DataNotFoundError(f"{split.parent / names}: missing (the unit did not finish, "
                                    f"or the file was removed); {hint}")
    if "seed_*" in pattern:
        seeds = saved["config"].get("seeds") or []
        absent = [s for s in seeds if isinstance(s, int) and s not in have]
        if absent:
            raise DataNotFoundError(f"{run}: no checkpoint for seed {absent[0]} of the run's "
                                    f"seeds {seeds}; {hint}")
    return paths


def best_model(run: str | Path, *, domain: str, build: Builder,
               pattern: str = "**/checkpoint.pt") -> SavedModel:
    """The model of the run's unit with the highest validation accuracy (first on ties).

    Parameters
    ----------
    run : path-like
        A run folder of ``domain``.
    domain : {"hsi", "audio"}
    build : callable
        ``build(metadata) -> nn.Module``, the untrained architecture of a checkpoint.
    pattern : str, default "**/checkpoint.pt"
        Which checkpoints compete, relative to ``run`` (e.g. ``"seed_2/checkpoint.pt"``).

    Raises
    ------
    DataNotFoundError
        No run there, or no checkpoint matches ``pattern``.
    DataError
        A run or checkpoint of another domain, or a damaged checkpoint.
    """
    paths = _checkpoints(run, domain, pattern)
    path, state = load_best_checkpoint(paths)
    return model_from_state(state, domain, build, path)


def rescore(run: str | Path, *, domain: str, build: Builder,
            score: Callable[[SavedModel], dict[str, Any]],
            pattern: str = "**/checkpoint.pt") -> list[dict[str, Any]]:
    """``score`` the model of every unit of a run, one checkpoint in memory at a time.

    ``score(saved)`` gets each :class:`SavedModel` in path order and returns that unit's
    metrics; the run folder is not modified. Raises as :func:`best_model`.
    """
    return [score(model_from_state(load_checkpoint(p), domain, build, p))
            for p in _checkpoints(run, domain, pattern)]
