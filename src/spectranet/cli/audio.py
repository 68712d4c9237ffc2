"""``spectranet audio``: features, train, evaluate and predict with the sound CNNs."""

from __future__ import annotations

import json
from typing import Any

import click

from spectranet.cli._common import (
    PRECISION_HELP,
    echo_metrics,
    from_preset,
    is_main_process,
    preset_option,
)
from spectranet.config import (
    BASELINES,
    CLASS_WEIGHTS,
    OPTIMIZERS,
    PRECISION_CHOICES,
    SAMPLINGS,
    SCHEDULERS,
    VAL_WINDOWS,
    VALIDATIONS,
)

__all__ = ["audio"]

_METRICS = ("clip_accuracy", "window_accuracy")


def _p(key: str, text: str = "") -> str:
    return from_preset("audio", key, text)


def _weight(value: str | None) -> float | str | None:
    """``--baseline-weight`` as a number or ``"auto"`` (its range is checked by the config)."""
    if value is None or value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(f"expected a number in [0, 1] or auto, got {value!r}",
                                 param_hint="--baseline-weight") from None


@click.group()
def audio() -> None:
    """Environmental sound classification with dilated CNNs."""


def _dataset_options(f: Any) -> Any:
    decorators = [
        click.option("--dataset", help="urbansound8k, esc50, esc10 or a folder with a labels CSV."),
        preset_option("audio", "paper"),
        click.option("--folds", type=int, multiple=True, help="Test folds (default: all present)."),
        click.option("--jobs", type=int, help="Processes for feature extraction."),
        click.option("--skip-bad-files", is_flag=True,
                     help="Skip undecodable, empty or missing files and list them in the report."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


@audio.command("features")
@_dataset_options
@click.option("--no-progress", is_flag=True)
def audio_features(preset: str, folds: tuple[int, ...], skip_bad_files: bool, no_progress: bool,
                   **options: Any) -> None:
    """Extract (and cache) the log-mel + delta windows of a dataset.

    The cache lives in ~/.cache/spectranet/features ($SPECTRANET_CACHE/features when set);
    training reads it.

    \b
    Example:
      spectranet audio features --dataset urbansound8k --jobs 2
    """
    from spectranet.audio.pipeline import features
    from spectranet.config import make_config

    config = make_config("audio", preset, folds=list(folds) or None,
                         on_error="skip" if skip_bad_files else None, **options)
    click.echo(json.dumps(features(config, progress=not no_progress), indent=2))


@audio.command("train")
@_dataset_options
@click.option("--arch", help=_p("arch", 'Layer spec, e.g. "Cov1 + Cov2 + DilaCov1(2)", or '
                                        '"piczak".'))
@click.option("--filters", help=_p("filters", "Filters per convolution, comma-separated "
                                              "(- = 32,32,64,64, then 64)."))
@click.option("--epochs", type=int, help=_p("epochs", "Training epochs (replaces a preset's "
                                                    "--steps)."))
@click.option("--steps", type=int, help=_p(
    "steps", "Optimisation steps instead of epochs: each round trains ceil(steps / batches "
    "per epoch) epochs, so a small training set trains as long as a large one."))
@click.option("--batch-size", type=int, help=_p("batch_size"))
@click.option("--lr", type=float, help=_p("lr", "Learning rate (the peak with onecycle)."))
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), help=_p("optimizer"))
@click.option("--frames", type=int,
              help=_p("frames", "Frames per window (41: ~0.95 s; Piczak's long segments: 101)."))
@click.option("--overlap", type=float,
              help=_p("overlap", "Overlap of consecutive windows, in [0, 1)."))
@click.option("--aggregate", type=click.Choice(["mean", "vote"]),
              help=_p("aggregate", "Clip decision from its windows: mean probability or "
                                    "majority vote."))
@click.option("--batch-norm/--no-batch-norm", default=None,
              help=_p("batch_norm", "Batch normalisation after each convolution (not in the "
                                    "paper)."))
@click.option("--scheduler", type=click.Choice(SCHEDULERS), help=_p("scheduler"))
@click.option("--augment/--no-augment", default=None,
              help=_p("augment", "Time shift and masking of windows."))
@click.option("--sampling", type=click.Choice(SAMPLINGS),
              help=_p("sampling", "An epoch: every training window, or one random window per "
                                  "clip."))
@click.option("--validation", type=click.Choice(VALIDATIONS),
              help=_p("validation", "fold: the previous fold validates; none: it trains too "
                                    "(fixed schedule); group: a share of the training folds' "
                                    "recordings validates (no test fold takes part)."))
@click.option("--val-share", type=float,
              help="With --validation group: share of the training folds' recordings that "
                   "validates, in (0, 0.5] (default 0.2).")
@click.option("--keep", type=click.Choice(["best", "last"]),
              help="The epoch a validating round keeps: the best on validation or the last "
                   "(default best).")
@click.option("--val-windows", type=click.Choice(VAL_WINDOWS),
              help=_p("val_windows", "Validation windows scored every epoch: all, or each "
                                     "clip's middle one."))
@click.option("--mixup", type=float, help=_p("mixup", "Mixup Beta parameter (0: off)."))
@click.option("--label-smoothing", type=float,
              help=_p("label_smoothing", "Label smoothing of the loss, in [0, 1)."))
@click.option("--weight-decay", type=float, help=_p("weight_decay"))
@click.option("--baseline", type=click.Choice(BASELINES),
              help=_p("baseline", "Also run a baseline on the same folds: MFCC + random "
                                  "forest (rf) or SVM (svm), or unsupervised feature learning "
                                  "+ random forest (ufl)."))
@click.option("--baseline-weight", callback=lambda _c, _p, v: _weight(v),
              help="Late fusion: share of the MFCC random forest's probabilities (--baseline rf) "
                   "in each test clip's, in [0, 1], or auto (chosen on --validation group's "
                   "clips); default 0.")
@click.option("--class-weight", type=click.Choice(CLASS_WEIGHTS),
              help="balanced: weight the loss by inverse training-class frequency.")
@click.option("--precision", type=click.Choice(PRECISION_CHOICES),
              help=_p("precision", PRECISION_HELP))
@click.option("--seeds", type=int, multiple=True, help=_p("seeds"))
@click.option("--device", help="cpu (default) or cuda.")
@click.option("--out", type=click.Path(), required=True)
@click.option("--no-progress", is_flag=True)
def audio_train(preset: str, folds: tuple[int, ...], seeds: tuple[int, ...], filters: str | None,
                skip_bad_files: bool, out: str, no_progress: bool, **options: Any) -> None:
    """Cross-validate a model over the folds; write a run folder.

    Chen et al.'s Table 4 rows: Piczak's CNN with long segments and majority voting is
    --arch piczak --frames 101 --overlap 0.75 --aggregate vote; unsupervised feature learning
    (spherical k-means codes of log-mel patches + random forest) runs beside the CNN with
    --baseline ufl.

    \b
    Example (the quick preset on test fold 1 only, cut to 2 epochs, about a minute):
      spectranet audio train --dataset urbansound8k --preset quick --folds 1 --epochs 2 \\
          --out runs/us8k
    """
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
    metrics = train(config, out, progress=not no_progress and is_main_process())
    echo_metrics(metrics, _METRICS)
    if is_main_process():
        click.echo(f"run folder: {out}")


@audio.command("evaluate")
@click.argument("run", type=click.Path())
@click.option("--no-progress", is_flag=True)
def audio_evaluate(run: str, no_progress: bool) -> None:
    """Re-score a finished run's test folds from its checkpoints.

    \b
    Example:
      spectranet audio evaluate runs/us8k
    """
    from spectranet.audio.pipeline import evaluate

    echo_metrics(evaluate(run, progress=not no_progress), _METRICS)


@audio.command("predict")
@click.argument("run", type=click.Path())
@click.argument("files", type=click.Path(), nargs=-1, required=True)
@click.option("--out", type=click.Path(), help="Folder for predictions.csv and timelines.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--no-progress", is_flag=True)
def audio_predict(run: str, files: tuple[str, ...], out: str | None, device: str,
                  no_progress: bool) -> None:
    """Label and top-3 probabilities per file, and segments of long recordings.

    A recording longer than one window also gets its segments (runs of windows with the same
    top class); with --out, predictions.csv and a window timeline per recording. A run trained
    with --baseline-weight mixes the MFCC forest into the label as its test scores did.

    \b
    Example:
      spectranet audio predict runs/us8k \\
          $SPECTRANET_DATA/audio/urbansound8k_subset/audio/fold1/101415-3-0-2.flac
    """
    from spectranet.audio.inference import predict, segment_summary

    for row in predict(run, list(files), out=out, device=device, progress=not no_progress):
        top = ", ".join(f"{name} {p:.2f}" for name, p in row["top3"])
        click.echo(f"{row['file']}: {row['label']}  ({top})")
        if row["windows"] > 1:
            click.echo(f"  segments: {segment_summary(row)}")
