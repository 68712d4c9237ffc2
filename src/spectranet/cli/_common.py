"""What every command shares: the preset option, preset-aware help, metric printing."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import click

from spectranet.config import list_presets, load_preset

__all__ = ["is_main_process", "echo_metrics", "preset_option", "from_preset", "PRECISION_HELP",
           "LazyChoice"]

PRECISION_HELP = ("auto: bf16 autocast where the CPU has native bfloat16 (AVX512-BF16 or AMX), "
                  "else fp32; fp32; bf16 (slow without native support).")


def is_main_process() -> bool:
    """Rank 0 under torchrun (which sets RANK), or a plain process: the one that prints."""
    return os.environ.get("RANK", "0") == "0"


def echo_metrics(metrics: dict[str, Any], keys: Sequence[str]) -> None:
    """Print the given fractions of ``metrics`` as percent (with ``± std`` over seeds)."""
    if not is_main_process():
        return
    std = metrics.get("std", {})
    for key in keys:
        if key in metrics and isinstance(metrics[key], (int, float)):
            extra = f" ± {100 * std[key]:.2f}" if key in std else ""
            click.echo(f"{key}: {100 * metrics[key]:.2f}{extra} %")


def preset_option(domain: str, default: str) -> Any:
    """``--preset`` with the domain's presets, each described in the help."""
    return click.option("--preset", type=click.Choice(list_presets(domain)), default=default,
                        show_default=True,
                        help="Recipe whose values every unset option takes (shown in brackets "
                             "after each option).")


def from_preset(domain: str, key: str, text: str = "") -> str:
    """Help text of an option whose default comes from the preset, with each preset's value.

    >>> from_preset("hsi", "epochs", "Training epochs.")
    'Training epochs. [preset paper: 50, quick: 20, standard: 50]'
    """
    values = []
    for name in list_presets(domain):
        value = load_preset(domain, name).get(key)
        if isinstance(value, list):
            value = ",".join(map(str, value))
        values.append(f"{name}: {'-' if value is None else value}")
    values.sort(key=lambda v: (not v.startswith("paper"), v))
    return f"{text} [preset {', '.join(values)}]".strip()


class LazyChoice(click.Choice):
    """A :class:`click.Choice` whose choices are loaded on first use.

    A registry that needs torch is imported when the option is checked or its help shown, not
    when the command line starts.
    """

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        super().__init__(())
        self._load = load
        self._loaded: tuple[str, ...] | None = None

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        self._loaded = tuple(value) or None
