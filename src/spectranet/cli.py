"""The ``spectranet`` command line.

Parses options, calls the library function of the same name and prints the result. Heavy
imports happen inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from spectranet.config import (
    BASELINES,
    CLASS_WEIGHTS,
    OPTIMIZERS,
    PRECISION_CHOICES,
    PRESETS,
    SAMPLINGS,
    SCHEDULERS,
    VAL_WINDOWS,
    VALIDATIONS,
)
from spectranet.errors import SpectranetError

__all__ = ["main", "cli"]

_PRESET = click.Choice(PRESETS)


def _is_main_process() -> bool:
    """Rank 0 under torchrun (which sets RANK), or a plain process: the one that prints."""
    return os.environ.get("RANK", "0") == "0"


def _echo_metrics(metrics: dict[str, Any], keys: Sequence[str]) -> None:
    if not _is_main_process():
        return
    std = metrics.get("std", {})
    for key in keys:
        if key in metrics and isinstance(metrics[key], (int, float)):
            extra = f" ± {100 * std[key]:.2f}" if key in std else ""
            click.echo(f"{key}: {100 * metrics[key]:.2f}{extra} %")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spectranet")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Data root (default: $SPECTRANET_DATA, else ~/.cache/spectranet).")
def cli(data_dir: str | None) -> None:
    """Convolutional classifiers for spectral data.

    Sound (Chen et al. 2019) and hyperspectral images (Ahmad 2020).
    """
    if data_dir is not None:
        os.environ["SPECTRANET_DATA"] = str(Path(data_dir).resolve())


# ----------------------------------------------------------------------------- hsi
@cli.group()
def hsi() -> None:
    """Hyperspectral image classification with the fast 3D CNN."""


@hsi.command("train")
@click.option("--scene", help="Registered scene (see `spectranet data list`).")
@click.option("--cube", type=click.Path(), help="Your own cube file (.mat, .npy, .npz, ENVI .hdr).")
@click.option("--gt", type=click.Path(), help="Label map for --cube (0 = unlabelled).")
@click.option("--cube-variable", help="Variable name inside a .mat/.npz cube file.")
@click.option("--gt-variable", help="Variable name inside a .mat/.npz label file.")
@click.option("--preset", type=_PRESET, default="paper", show_default=True)
@click.option("--window", type=int, help="Odd patch side in pixels (paper: 11 to 25).")
@click.option("--components", type=int, help="PCA components (paper: 20).")
@click.option("--protocol", type=click.Choice(["paper", "disjoint"]))
@click.option("--train-per-class", type=float,
              help="Training pixels per class: a count if >= 1 (e.g. 50), a fraction if < 1.")
@click.option("--model", help="fast3dcnn (default) or a comparison model.")
@click.option("--epochs", type=int)
@click.option("--batch-size", type=int)
@click.option("--lr", type=float)
@click.option("--dropout", type=float)
@click.option("--class-weight", type=click.Choice(CLASS_WEIGHTS),
              help="balanced: weight the loss by inverse training-class frequency.")
@click.option("--precision", type=click.Choice(PRECISION_CHOICES))
@click.option("--seeds", type=int, multiple=True, help="Repeat the option or list: --seeds 0 1 2.")
@click.option("--device", help="cpu (default) or cuda.")
@click.option("--out", type=click.Path(), required=True, help="Run folder to write.")
@click.option("--no-progress", is_flag=True)
def hsi_train(preset: str, out: str, seeds: tuple[int, ...], no_progress: bool,
              train_per_class: float | None, **options: Any) -> None:
    """Train and evaluate on a scene; write a run folder with report, metrics and map."""
    from spectranet.config import make_config
    from spectranet.hsi.pipeline import train

    tpc: int | float | None = train_per_class
    if tpc is not None and tpc >= 1:
        if tpc != int(tpc):
            raise click.BadParameter(f"a count must be a whole number, got {tpc}",
                                     param_hint="--train-per-class")
        tpc = int(tpc)
    config = make_config("hsi", preset, seeds=list(seeds) or None, train_per_class=tpc, **options)
    metrics = train(config, out, progress=not no_progress and _is_main_process())
    _echo_metrics(metrics, ("overall_accuracy", "average_accuracy", "kappa"))
    if _is_main_process():
        click.echo(f"run folder: {out}")


@hsi.command("evaluate")
@click.argument("run", type=click.Path())
@click.option("--no-progress", is_flag=True)
def hsi_evaluate(run: str, no_progress: bool) -> None:
    """Re-score a finished run's test split from its best checkpoint."""
    from spectranet.hsi.pipeline import evaluate

    metrics = evaluate(run, progress=not no_progress)
    _echo_metrics(metrics, ("overall_accuracy", "average_accuracy", "kappa"))


@hsi.command("predict")
@click.argument("run", type=click.Path())
@click.argument("cube", type=click.Path())
@click.option("--gt", type=click.Path(), help="Label map to score the prediction against.")
@click.option("--cube-variable")
@click.option("--gt-variable")
@click.option("--out", type=click.Path(), required=True)
@click.option("--no-progress", is_flag=True)
def hsi_predict(run: str, cube: str, gt: str | None, cube_variable: str | None,
                gt_variable: str | None, out: str, no_progress: bool) -> None:
    """Classification map of a new cube with a run's model."""
    from spectranet.hsi.pipeline import predict

    result = predict(run, cube, gt=gt, out=out, cube_variable=cube_variable,
                     gt_variable=gt_variable, progress=not no_progress)
    click.echo(f"map: {Path(out) / 'map.npy'} ({result['pixels_per_second']:.0f} pixels/s)")
    if "metrics" in result:
        _echo_metrics(result["metrics"], ("overall_accuracy", "average_accuracy", "kappa"))


# --------------------------------------------------------------------------- audio
@cli.group()
def audio() -> None:
    """Environmental sound classification with dilated CNNs."""


def _audio_options(f: Any) -> Any:
    decorators = [
        click.option("--dataset", help="urbansound8k, esc50, esc10 or a folder with a labels CSV."),
        click.option("--preset", type=_PRESET, default="paper", show_default=True),
        click.option("--folds", type=int, multiple=True, help="Test folds (default: all present)."),
        click.option("--jobs", type=int, help="Processes for feature extraction."),
        click.option("--skip-bad-files", is_flag=True,
                     help="Skip undecodable, empty or missing files and list them in the report."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


@audio.command("features")
@_audio_options
@click.option("--no-progress", is_flag=True)
def audio_features(preset: str, folds: tuple[int, ...], skip_bad_files: bool, no_progress: bool,
                   **options: Any) -> None:
    """Extract (and cache) the log-mel + delta windows of a dataset."""
    from spectranet.audio.pipeline import features
    from spectranet.config import make_config

    config = make_config("audio", preset, folds=list(folds) or None,
                         on_error="skip" if skip_bad_files else None, **options)
    summary = features(config, progress=not no_progress)
    click.echo(json.dumps(summary, indent=2))


@audio.command("train")
@_audio_options
@click.option("--arch", help='Layer spec, e.g. "Cov1 + Cov2 + Cov3 + DilaCov1(2)", or "piczak".')
@click.option("--filters", help="Filters per convolution, comma-separated (default 32,32,64,64).")
@click.option("--epochs", type=int)
@click.option("--batch-size", type=int)
@click.option("--lr", type=float)
@click.option("--optimizer", type=click.Choice(OPTIMIZERS))
@click.option("--aggregate", type=click.Choice(["mean", "vote"]))
@click.option("--batch-norm/--no-batch-norm", default=None,
              help="Batch normalisation after each convolution (not in the paper).")
@click.option("--scheduler", type=click.Choice(SCHEDULERS))
@click.option("--augment/--no-augment", default=None, help="Time shift and masking of windows.")
@click.option("--sampling", type=click.Choice(SAMPLINGS),
              help="An epoch: every training window, or one random window per clip.")
@click.option("--validation", type=click.Choice(VALIDATIONS),
              help="fold: the previous fold validates; none: it trains too (fixed schedule).")
@click.option("--val-windows", type=click.Choice(VAL_WINDOWS),
              help="Validation windows scored every epoch: all, or each clip's middle one.")
@click.option("--mixup", type=float, help="Mixup Beta parameter (0: off).")
@click.option("--label-smoothing", type=float, help="Label smoothing of the loss, in [0, 1).")
@click.option("--weight-decay", type=float)
@click.option("--baseline", type=click.Choice(BASELINES),
              help="Also run the MFCC + random forest or SVM baseline on the same folds.")
@click.option("--class-weight", type=click.Choice(CLASS_WEIGHTS),
              help="balanced: weight the loss by inverse training-class frequency.")
@click.option("--precision", type=click.Choice(PRECISION_CHOICES))
@click.option("--seeds", type=int, multiple=True)
@click.option("--device")
@click.option("--out", type=click.Path(), required=True)
@click.option("--no-progress", is_flag=True)
def audio_train(preset: str, folds: tuple[int, ...], seeds: tuple[int, ...], filters: str | None,
                skip_bad_files: bool, out: str, no_progress: bool, **options: Any) -> None:
    """Cross-validate a model over the folds; write a run folder."""
    from spectranet.audio.pipeline import train
    from spectranet.config import make_config

    filter_list = None
    if filters:
        try:
            filter_list = [int(v) for v in filters.split(",")]
        except ValueError:
            raise click.BadParameter(f"expected integers separated by commas, got {filters!r}",
                                     param_hint="--filters") from None
    config = make_config("audio", preset, folds=list(folds) or None, seeds=list(seeds) or None,
                         filters=filter_list, on_error="skip" if skip_bad_files else None,
                         **options)
    metrics = train(config, out, progress=not no_progress and _is_main_process())
    _echo_metrics(metrics, ("clip_accuracy", "window_accuracy"))
    if _is_main_process():
        click.echo(f"run folder: {out}")


@audio.command("evaluate")
@click.argument("run", type=click.Path())
@click.option("--no-progress", is_flag=True)
def audio_evaluate(run: str, no_progress: bool) -> None:
    """Re-score a finished run's test folds from its checkpoints."""
    from spectranet.audio.pipeline import evaluate

    metrics = evaluate(run, progress=not no_progress)
    _echo_metrics(metrics, ("clip_accuracy", "window_accuracy"))


@audio.command("predict")
@click.argument("run", type=click.Path())
@click.argument("files", type=click.Path(), nargs=-1, required=True)
@click.option("--out", type=click.Path(), help="Folder for predictions.csv and timelines.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
def audio_predict(run: str, files: tuple[str, ...], out: str | None, device: str) -> None:
    """Label and top-3 probabilities per file (and a window timeline for long recordings)."""
    from spectranet.audio.inference import predict

    for row in predict(run, list(files), out=out, device=device):
        top = ", ".join(f"{name} {p:.2f}" for name, p in row["top3"])
        click.echo(f"{row['file']}: {row['label']}  ({top})")


# ---------------------------------------------------------------------- experiment
@cli.command("experiment")
@click.argument("paper", type=click.Choice(["chen2019", "ahmad2020"]))
@click.argument("name")
@click.option("--scale", type=click.Choice(["quick", "standard", "paper"]), default="quick",
              show_default=True)
@click.option("--jobs", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(), required=True)
@click.option("--reuse", type=click.Path(exists=True, file_okay=False), multiple=True,
              help="Another experiment's folder: its identical finished runs are copied.")
def experiment(paper: str, name: str, scale: str, jobs: int, out: str,
               reuse: tuple[str, ...]) -> None:
    """Run one of the papers' experiments as a resumable grid and write its report."""
    from spectranet.experiments import run_experiment

    report = run_experiment(paper, name, scale=scale, jobs=jobs, out=out, reuse=reuse)
    click.echo(f"report: {report}")


# ---------------------------------------------------------------------------- data
@cli.group()
def data() -> None:
    """List, download and verify datasets under $SPECTRANET_DATA."""


@data.command("list")
def data_list() -> None:
    """Registered datasets and whether their files are present and verified."""
    from spectranet.data import list_datasets

    for row in list_datasets():
        click.echo(f"{row['name']:<18} {row['domain']:<6} {row['status']}")


@data.command("download")
@click.argument("name")
def data_download(name: str) -> None:
    """Fetch a dataset from its official address and check its sha256."""
    from spectranet.data import download_dataset

    for path in download_dataset(name):
        click.echo(str(path))


@data.command("verify")
@click.argument("name")
def data_verify(name: str) -> None:
    """Check a dataset's files against the registered sha256 sums."""
    from spectranet.data import verify_dataset

    result = verify_dataset(name)
    for file, status in result.items():
        click.echo(f"{file}: {status}")
    if any(status not in ("ok", "unverified") for status in result.values()):
        raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spectranet`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    args = _expand_lists(args)
    try:
        cli.main(args=args, prog_name="spectranet", standalone_mode=False)
    except SpectranetError as err:
        click.echo(f"error: {err}", err=True)
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
