"""What a grid run is and where it lives: :class:`GridRun`, its folder, whether it finished."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectranet.engine.runs import read_json
from spectranet.errors import DataNotFoundError

__all__ = ["GridRun", "NAME_CHARACTERS", "run_dir", "is_finished", "data_fingerprint"]

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
