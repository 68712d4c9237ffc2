"""Checks of option values: each raises :class:`ConfigError` naming the option and the value."""

from __future__ import annotations

import math
from typing import Any

from spectranet.errors import ConfigError

__all__ = ["check_choice", "check_positive", "check_fraction", "check_seeds",
           "check_split_file"]


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_positive(name: str, value: Any, *, integer: bool = False,
                   allow_zero: bool = False) -> None:
    """``value`` must be a finite number (an int with ``integer``) > 0, or >= 0 with ``allow_zero``.

    NaN and infinity are refused: ``--lr nan`` would train on NaN weights without a word.
    """
    kind = int if integer else (int, float)
    bad = isinstance(value, bool) or not isinstance(value, kind)
    if (bad or (isinstance(value, float) and not math.isfinite(value)) or value < 0
            or (value == 0 and not allow_zero)):
        what = "an integer" if integer else "a number"
        raise ConfigError(f"{name} must be {what} {'>= 0' if allow_zero else '> 0'}, got {value!r}")


def check_fraction(name: str, value: Any) -> None:
    """``value`` must be a number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"{name} must be a fraction in (0, 1), got {value!r}")


def check_share(name: str, value: Any) -> None:
    """``value`` must be a number in [0, 1], both ends included (e.g. a mixing weight)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a number in [0, 1], got {value!r}")


def check_seeds(seeds: Any) -> None:
    """``seeds`` must be a non-empty list of distinct integers >= 0."""
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ConfigError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds must be distinct, got {seeds!r}")


def check_split_file(cfg: Any) -> None:
    """Check an HSI configuration's ``split_file`` and ``split_buffer``.

    A one-path list (or a tuple) of ``split_file`` is normalised in place on the frozen
    configuration: one path becomes the path, a tuple of two a list.
    """
    paths = cfg.split_file
    if isinstance(paths, (list, tuple)) and len(paths) == 1:
        paths = paths[0]
    elif isinstance(paths, tuple):
        paths = list(paths)
    object.__setattr__(cfg, "split_file", paths)
    if paths is not None and not (
        (isinstance(paths, str) and paths)
        or (isinstance(paths, list) and len(paths) == 2 and all(isinstance(p, str) and p
                                                                for p in paths))
    ):
        raise ConfigError("split_file must be a path, or two paths (training map, test map), "
                          f"got {paths!r}")
    if not isinstance(cfg.split_buffer, bool):
        raise ConfigError(f"split_buffer must be True or False, got {cfg.split_buffer!r}")
    if paths is None:
        if cfg.split_buffer:
            raise ConfigError("split_buffer needs a split_file (the disjoint protocol makes "
                              "its own buffer)")
        return
    if cfg.protocol == "disjoint":
        raise ConfigError("give either protocol 'disjoint' or a split_file, not both: the "
                          "split file is the split")
    if cfg.train_per_class is not None:
        raise ConfigError("give either train_per_class or a split_file, not both: the split "
                          "file is the split")
