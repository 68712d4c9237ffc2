"""Progress bars on a terminal only: a log file or a pipe gets the callers' own lines instead."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

__all__ = ["bar", "interactive"]

T = TypeVar("T")


def interactive() -> bool:
    """Whether standard error is a terminal (where bars redraw in place)."""
    return sys.stderr.isatty()


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
