"""A run folder from its first check to its metrics: the skeleton every pipeline shares.

:meth:`Run.open` makes the checks that need no training (the output folder, the identity of a
run already there), joins the process group under torchrun and, on rank 0 only, writes
``config.json``: the configuration, the data fingerprint, the environment and what the domain
adds to describe its data. The domain then trains its units (seeds, folds) in sub-folders;
:meth:`Run.finish` writes the report and, last, ``metrics.json``, which marks a finished run.
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from spectranet.engine.distributed import init_from_env, is_main_process
from spectranet.engine.identity import check_identity, check_out_dir
from spectranet.engine.runs import RunDir

__all__ = ["Run", "environment"]


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

    @classmethod
    def open(cls, out: str | Path, config: Any, fingerprint: str, *, domain: str,
             describe: Mapping[str, Any] | None = None, distributed: bool = True) -> Run:
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

        Raises
        ------
        ConfigError, DataError
            ``out`` cannot take the run, or holds another run (see
            :func:`~spectranet.engine.identity.check_identity`); nothing is written.
        """
        path = check_out_dir(out, marker="config.json")
        check_identity(path, config, fingerprint)
        if distributed:
            init_from_env()
        folder = RunDir(path) if not distributed or is_main_process() else None
        if folder is not None:
            folder.write_json("config.json", {"domain": domain,
                                              "config": dataclasses.asdict(config),
                                              "data_fingerprint": fingerprint,
                                              "environment": environment(),
                                              **(describe or {})})
        return cls(path, folder)

    def log(self, message: str) -> None:
        """Append a line to the run's ``run.log`` (rank 0)."""
        if self.folder is not None:
            self.folder.log(message)

    def finish(self, metrics: dict[str, Any], report: str | None = None) -> dict[str, Any]:
        """Write ``report.md`` then ``metrics.json`` (rank 0); return ``metrics``."""
        if self.folder is not None:
            if report is not None:
                self.folder.write_text("report.md", report)
            self.folder.write_json("metrics.json", metrics)
            self.folder.close()
        return metrics
