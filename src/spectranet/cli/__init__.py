"""The ``spectranet`` command line.

Each command parses its options, calls the library function of the same name and prints the
result; the commands live in one module per group (:mod:`.hsi`, :mod:`.audio`, :mod:`.data`,
:mod:`.experiment`, :mod:`.export`). Heavy imports happen inside the commands so that
``--help`` is instant.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from spectranet.cli.audio import audio
from spectranet.cli.data import data
from spectranet.cli.experiment import experiment
from spectranet.cli.export import export
from spectranet.cli.hsi import hsi
from spectranet.errors import SpectranetError

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spectranet")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Data root (default: $SPECTRANET_DATA, else ~/.cache/spectranet).")
def cli(data_dir: str | None) -> None:
    """Convolutional classifiers for spectral data.

    Sound (Chen et al. 2019) and hyperspectral images (Ahmad 2020). Every command's help has
    an example; the README lists the run folder's files.
    """
    if data_dir is not None:
        os.environ["SPECTRANET_DATA"] = str(Path(data_dir).resolve())


for _command in (hsi, audio, experiment, export, data):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spectranet`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    args = _expand_lists(args)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line(warnings.showwarning)
            cli.main(args=args, prog_name="spectranet", standalone_mode=False)
    except SpectranetError as err:
        click.echo(f"error: {err}", err=True)
        return 1
    except OSError as err:  # a file the user named: unreadable, full disk, permissions
        where = f"{err.filename}: " if err.filename else ""
        click.echo(f"error: {where}{err.strerror or err}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except SystemExit as err:
        return int(err.code or 0)
    return 0


def _one_line(show: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` printing ours as ``warning: <message>``, others with ``show``."""

    def showwarning(message: Warning | str, category: type[Warning], filename: str,
                    lineno: int, file: Any = None, line: str | None = None) -> None:
        if issubclass(category, UserWarning) and "spectranet" in Path(filename).parts:
            click.echo(f"warning: {message}", err=True)
        else:
            show(message, category, filename, lineno, file, line)

    return showwarning


_LIST_OPTIONS = ("--seeds", "--folds")


def _expand_lists(args: list[str]) -> list[str]:
    """Accept ``--seeds 0 1 2`` (DESIGN.md's form) as well as click's ``--seeds 0 --seeds 1``."""
    expanded: list[str] = []
    current: str | None = None
    for arg in args:
        if arg in _LIST_OPTIONS:
            current = arg
            expanded.append(arg)
            continue
        if current is not None and arg.lstrip("-").isdigit() and expanded[-1] != current:
            expanded += [current, arg]
            continue
        current = None if not arg.lstrip("-").isdigit() else current
        expanded.append(arg)
    return expanded


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
