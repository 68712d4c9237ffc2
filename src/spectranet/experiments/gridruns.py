"""What a grid run is and where it lives: :class:`GridRun`, its folder, whether it finished.

:class:`GridPlan` tells which runs of a grid are left (finished on the data they name now, or
not); :func:`find_reusable` and :func:`copy_reused` bring finished runs in from other grids.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectranet.engine.identity import config_as_json, same_config
from spectranet.engine.ownership import LOCK
from spectranet.engine.runs import atomic_write_json, read_json
from spectranet.errors import ConfigError, DataNotFoundError

__all__ = ["GridRun", "GridPlan", "NAME_CHARACTERS", "run_dir", "is_finished",
           "data_fingerprint", "find_reusable", "copy_reused"]

#: Characters a run name may hold (it names a folder).
NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True)
class GridRun:
    """One independent run of a grid.

    Parameters
    ----------
    name : str
        Unique within the grid; letters, digits, ``_``, ``-`` and ``.`` (a folder name).
    domain : {"hsi", "audio", "mfcc"}
        Which library function trains it (see :data:`spectranet.experiments.grid.RUNNERS`).
    config : HSIConfig, AudioConfig or BaselineConfig
    tags : mapping, optional
        Labels for tables (e.g. ``{"scene": "indian_pines", "window": 11}``); copied into the
        results rows.
    """

    name: str
    domain: str
    config: Any
    tags: Mapping[str, Any] = field(default_factory=dict)


def run_dir(out: str | Path, name: str) -> Path:
    """Folder of run ``name`` in grid folder ``out``: ``out/runs/<name>``."""
    return Path(out) / "runs" / name


def is_finished(out: str | Path, name: str, fingerprint: str | None = None) -> bool:
    """Whether run ``name`` of grid ``out`` finished (its ``metrics.json`` exists).

    With ``fingerprint`` (see :func:`data_fingerprint`), also whether it finished on that data:
    a run whose input changed since is not finished, and training it again reports the change.
    """
    folder = run_dir(out, name)
    if not (folder / "metrics.json").is_file():
        return False
    if fingerprint is None:
        return True
    try:
        return read_json(folder / "config.json").get("data_fingerprint") == fingerprint
    except (OSError, ValueError, AttributeError):
        return False


def data_fingerprint(domain: str, config: Any, root: str | Path | None = None) -> str | None:
    """The fingerprint of the data a run would read now, or None when the data is missing.

    The same value the run recorded in its ``config.json`` when it started
    (see :mod:`spectranet.engine.identity`).
    """
    if domain == "hsi":
        from spectranet.hsi.pipeline import data_fingerprint as fingerprint
    elif domain == "audio":
        from spectranet.audio.pipeline import data_fingerprint as fingerprint
    else:
        from spectranet.audio.baseline import data_fingerprint as fingerprint
    try:
        return fingerprint(config, root)
    except DataNotFoundError:
        return None


@dataclass
class GridPlan:
    """What is left of grid ``out``: the runs not finished on the data they name now.

    Attributes
    ----------
    out : Path
        The grid folder.
    root : path-like or None
        Data root the fingerprints are taken under (default ``$SPECTRANET_DATA``).
    custom : bool
        A custom runner's grid: its configurations need not name real data, so no fingerprint
        is taken and ``metrics.json`` alone makes a run finished.
    fingerprints : dict
        The data fingerprints taken so far, one per domain and configuration.
    """

    out: Path
    root: str | Path | None
    custom: bool
    fingerprints: dict[str, str | None] = field(default_factory=dict)

    def fingerprint(self, run: GridRun) -> str | None:
        """The fingerprint of ``run``'s data now (None for a custom runner), once per config."""
        if self.custom:
            return None
        key = json.dumps([run.domain, config_as_json(run.config)], sort_keys=True)
        if key not in self.fingerprints:
            self.fingerprints[key] = data_fingerprint(run.domain, run.config, self.root)
        return self.fingerprints[key]

    def left(self, runs: Sequence[GridRun]) -> list[GridRun]:
        """``runs`` not finished (metrics.json alone is not enough: the same data too)."""
        return [r for r in runs if not is_finished(self.out, r.name, self.fingerprint(r))]

    def sources(self, todo: Sequence[GridRun],
                reuse: Sequence[str | Path]) -> dict[str, Path | None]:
        """Run name -> the finished run in the ``reuse`` grids to copy (see find_reusable)."""
        if not reuse:
            return {}
        return {r.name: find_reusable(r, reuse, self.fingerprint(r)) for r in todo}


def copy_reused(out: Path, todo: Sequence[GridRun], sources: dict[str, Path | None],
                note: Callable[[str], None]) -> None:
    """Copy into grid ``out`` each run of ``todo`` that has a source; ``note`` each copy.

    ``sources`` as :meth:`GridPlan.sources` gives it; each copy is atomic and holds
    ``reused.json`` saying where it came from.
    """
    for run in todo:
        if (source := sources.get(run.name)) is not None:
            _copy_run(source, run_dir(out, run.name))
            note(f"reused {run.name} from {source}")


def find_reusable(run: GridRun, others: Sequence[str | Path],
                  fingerprint: str | None = None) -> Path | None:
    """Folder of a finished run in grid folders ``others`` with ``run``'s domain and configuration.

    Returns the first match (in ``others`` order, then in each grid's ``grid.json`` order) that
    finished on data of ``fingerprint`` when given, or None. Folders without ``grid.json``
    raise :class:`ConfigError`: they are not grids.
    """
    for other in map(Path, others):
        if not (other / "grid.json").is_file():
            raise ConfigError(f"{other}: not a grid folder (no grid.json) to reuse runs from")
        for entry in read_json(other / "grid.json")["runs"]:
            if (entry["domain"] == run.domain and same_config(entry["config"], run.config)
                    and is_finished(other, entry["name"], fingerprint)):
                return run_dir(other, entry["name"])
    return None


def _copy_run(source: Path, folder: Path) -> None:
    """Copy a finished run folder to ``folder`` atomically (temporary sibling, then rename)."""
    tmp = folder.with_name(f".{folder.name}.reuse-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("error.json", LOCK))
    atomic_write_json(tmp / "reused.json", {"source": str(source.resolve()),
                                            "date": time.strftime("%Y-%m-%d %H:%M:%S")})
    shutil.rmtree(folder, ignore_errors=True)  # a failed or half-done attempt of this run
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(folder)
