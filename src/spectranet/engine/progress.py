"""Progress bars on a terminal only: a log file or a pipe gets the callers' own lines instead.

Several runs sharing one terminal (a grid's worker processes) cannot share bars: inside
:func:`run_lines` every bar is off and each :func:`line` carries the run's name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from tqdm.auto import tqdm

__all__ = ["bar", "interactive", "line", "run_lines"]

T = TypeVar("T")

#: (label, enabled) of the run being trained inside :func:`run_lines`; None outside.
_RUN: ContextVar[tuple[str, bool] | None] = ContextVar("spectranet_progress_run", default=None)


def interactive() -> bool:
    """Whether bars may redraw in place: standard error is a terminal, outside :func:`run_lines`."""
    return _RUN.get() is None and sys.stderr.isatty()


@contextmanager
def run_lines(label: str, *, enabled: bool = True) -> Iterator[None]:
    """Within the block, progress is one line per step prefixed ``"<label>: "``, never bars.

    Parameters
    ----------
    label : str
        Name of the run (e.g. a grid run's name).
    enabled : bool, default True
        False silences :func:`line` as well.
    """
    token = _RUN.set((label, enabled))
    try:
        yield
    finally:
        _RUN.reset(token)


def line(message: str) -> None:
    """Print a progress line to standard error (prefixed or silenced by :func:`run_lines`)."""
    run = _RUN.get()
    if run is None:
        print(message, file=sys.stderr, flush=True)
    elif run[1]:
        print(f"{run[0]}: {message}", file=sys.stderr, flush=True)


def bar(iterable: Iterable[T], *, desc: str, enabled: bool = True, **options: Any) -> tqdm:
    """A tqdm bar over ``iterable``, shown only when ``enabled`` and on a terminal.

    Parameters
    ----------
    iterable : iterable
    desc : str
        Label of the bar.
    enabled : bool, default True
        The caller's wish (e.g. ``progress=True``); off also turns the bar off on a terminal.
    **options
        Passed to :class:`tqdm.tqdm` (``total``, ``leave``, ``unit``, ``initial``...).
    """
    return tqdm(iterable, desc=desc, disable=not (enabled and interactive()), **options)
