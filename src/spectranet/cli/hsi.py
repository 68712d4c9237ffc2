"""``spectranet hsi``: train, evaluate and apply the fast 3D CNN and its comparison models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from spectranet.cli._common import (
    PRECISION_HELP,
    LazyChoice,
    echo_metrics,
    from_preset,
    is_main_process,
    preset_option,
)
from spectranet.config import (
    CLASS_WEIGHTS,
    HSI_VALIDATIONS,
    PRECISION_CHOICES,
    SCHEDULERS,
    STEM_INITS,
)

__all__ = ["hsi"]

_METRICS = ("overall_accuracy", "average_accuracy", "kappa")


def _p(key: str, text: str = "") -> str:
    return from_preset("hsi", key, text)


def _components(value: str | None) -> int | str | None:
    if value is None or value == "all":
        return value
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"an integer or 'all', got {value!r}") from None


def _number_or_auto(kind: type) -> Any:
    """A click callback reading ``kind`` (int or float) or the word 'auto'."""
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None or value == "auto":
            return value
        try:
            return kind(value)
        except ValueError:
            raise click.BadParameter(f"a number or 'auto', got {value!r}") from None
    return convert


def _threshold_or_off(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """A click callback reading a number, or the word 'off' (0: the option's off value)."""
    if value is None or value == "off":
        return None if value is None else 0.0
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(f"a confidence in (0, 1) or 'off', got {value!r}") from None


def _models() -> list[str]:
    from spectranet.hsi.models import list_models

    return list_models()


@click.group()
def hsi() -> None:
    """Hyperspectral image classification with the fast 3D CNN."""


@hsi.command("train")
@click.option("--scene", help="Registered scene (see `spectranet data list`).")
@click.option("--cube", type=click.Path(), help="Your own cube file (.mat, .npy, .npz, ENVI .hdr).")
@click.option("--gt", type=click.Path(), help="Label map for --cube (0 = unlabelled).")
@click.option("--class-names", type=click.Path(),
              help="Text file naming the classes of --gt: one 'id name' per line, or one name "
                   "per line in id order.")
@click.option("--cube-variable", help="Variable name inside a .mat/.npz cube file.")
@click.option("--gt-variable", help="Variable name inside a .mat/.npz label file.")
@preset_option("hsi", "paper")
@click.option("--window", type=int, help=_p("window", "Odd patch side in pixels."))
@click.option("--components", metavar="N|all",
              callback=lambda _ctx, _param, value: _components(value),
              help=_p("components", "PCA components, or 'all' (every band)."))
@click.option("--protocol", type=click.Choice(["paper", "disjoint"]),
              help=_p("protocol", "paper: random split; disjoint: spatially separate regions."))
@click.option("--train-per-class", type=float,
              help="Training pixels per class: a count if >= 1 (e.g. 50), a fraction if < 1.")
@click.option("--split-file", type=click.Path(), multiple=True,
              help="A fixed split instead of --protocol's: one file with train and test label "
                   "maps (.npz/.mat arrays train, test[, val]; .npy/.tif: a map of set codes "
                   "0/1 train/2 test/3 val, or stacked maps), or twice: training map, test map.")
@click.option("--split-buffer", is_flag=True, default=None,
              help="With --split-file: drop training/validation pixels whose patch holds a "
                   "test pixel (a leakage-free split).")
@click.option("--val-fraction", type=float, help=_p(
    "val_fraction", "Share of the non-test (with --split-file: training) pixels that validate."))
@click.option("--validation", type=click.Choice(HSI_VALIDATIONS), help=_p(
    "validation", "split: the validation pixels pick the best epoch; monitor: they score every "
    "epoch and the last epoch is kept; none: they train too and the last epoch is kept (same "
    "test pixels)."))
@click.option("--model", type=LazyChoice(_models), help=_p("model"))
@click.option("--epochs", type=int, help=_p("epochs", "Training epochs (replaces a preset's "
                                                    "--steps)."))
@click.option("--steps", type=int, help=_p(
    "steps", "Optimisation steps instead of epochs: each seed trains ceil(steps / batches "
    "per epoch) epochs, so a small training set trains as long as a large one."))
@click.option("--batch-size", type=int, help=_p("batch_size"))
@click.option("--drop-last/--no-drop-last", default=None, help=_p(
    "drop_last", "Drop each training epoch's last, incomplete batch."))
@click.option("--lr", type=float, help=_p("lr", "Learning rate."))
@click.option("--dropout", type=float, help="Dropout rate (default: the model's own).")
@click.option("--class-weight", type=click.Choice(CLASS_WEIGHTS),
              help="balanced: weight the loss by inverse training-class frequency.")
@click.option("--weight-decay", type=float, help=_p("weight_decay"))
@click.option("--scheduler", type=click.Choice(SCHEDULERS), help=_p(
    "scheduler", "Learning-rate schedule; onecycle: warm-up over 30 % of the epochs, then "
    "cosine decay; none: a constant rate."))
@click.option("--block", type=int, help="disjoint: stripes per block of each class "
              "(each block is cut into test, training and validation); default one block.")
@click.option("--split-window", type=int, help="disjoint: window the split's buffers are "
              "sized for (default --window), to test several windows on the same regions.")
@click.option("--flips/--no-flips", default=None,
              help=_p("flips", "Random 90-degree rotations and mirroring of training patches."))
@click.option("--pca/--no-pca", default=None, help=_p(
    "pca", "--no-pca: the model gets every band standardised, no PCA (--components all)."))
@click.option("--unit-norm/--no-unit-norm", default=None, help=_p(
    "unit_norm", "Divide each pixel's spectrum by its L2 norm before PCA and scaling."))
@click.option("--stem-init", type=click.Choice(STEM_INITS), help=_p(
    "stem_init", "fast3dcnn_stem: start the stem at random or as the whitened PCA of the "
    "training spectra."))
@click.option("--spectral-noise", type=float,
              help=_p("spectral_noise", "Std of Gaussian noise added to training patches."))
@click.option("--spectral-shift", type=int, help=_p(
    "spectral_shift", "Move training spectra by up to this many bands (with --no-pca)."))
@click.option("--label-smoothing", type=float, help=_p("label_smoothing"))
@click.option("--mixup", type=float,
              help=_p("mixup", "Beta(a, a) mixup of training batches; 0 off."))
@click.option("--svm-weight", callback=_number_or_auto(float), help=_p(
    "svm_weight", "Share of a spectral SVM's probabilities mixed into the CNN's; 0 off; auto: "
    "chosen on the validation pixels."))
@click.option("--svm-neighbourhood", callback=_number_or_auto(int), help=_p(
    "svm_neighbourhood", "The SVM sees each pixel's mean spectrum over this odd window (1: the "
    "pixel alone); auto: 1, 3, 5 or 7, chosen on the validation pixels."))
@click.option("--self-training", metavar="THRESHOLD|off", callback=_threshold_or_off, help=_p(
    "self_training", "One round of self-training: each seed's model pseudo-labels the pixels "
    "of its unlabelled pool (labelled pixels in no set, e.g. the disjoint buffers; under a "
    "leakage-free split only those whose patch holds no test or validation pixel) whose top "
    "probability is >= THRESHOLD, in (0, 1), and a fresh model trains as many steps on them "
    "and the training pixels; off: none."))
@click.option("--precision", type=click.Choice(PRECISION_CHOICES), help=_p("precision",
                                                                          PRECISION_HELP))
@click.option("--seeds", type=int, multiple=True,
              help=_p("seeds", "Repeat the option or list: --seeds 0 1 2."))
@click.option("--split-seed", type=int, help="Draw the split with this seed for every seed "
              "(the seeds then only change the model's initialisation and batch order). "
              "Default: each seed its own split.")
@click.option("--device", help="cpu (default) or cuda.")
@click.option("--out", type=click.Path(), required=True, help="Run folder to write.")
@click.option("--no-progress", is_flag=True)
def hsi_train(preset: str, out: str, seeds: tuple[int, ...], no_progress: bool,
              train_per_class: float | None, split_file: tuple[str, ...],
              **options: Any) -> None:
    """Train and evaluate on a scene; write a run folder with report, metrics and map.

    \b
    Example (Indian Pines, quick preset cut to 2 epochs, about a minute; then its split from file):
      spectranet hsi train --scene indian_pines --preset quick --epochs 2 --out runs/ip
      spectranet hsi train --scene indian_pines --preset quick --epochs 2 \\
          --split-file runs/ip/seed_0/split.npz --out runs/ip_split
    """
    from spectranet.config import make_config
    from spectranet.hsi.pipeline import train

    tpc: int | float | None = train_per_class
    if tpc is not None and tpc >= 1:
        if tpc != int(tpc):
            raise click.BadParameter(f"a count must be a whole number, got {tpc}",
                                     param_hint="--train-per-class")
        tpc = int(tpc)
    config = make_config("hsi", preset, seeds=list(seeds) or None, train_per_class=tpc,
                         split_file=list(split_file) or None, **options)
    metrics = train(config, out, progress=not no_progress and is_main_process())
    echo_metrics(metrics, _METRICS)
    for r in metrics.get("seeds", [metrics]) if is_main_process() else []:
        leak = r["leakage"]
        click.echo(f"leakage, seed {r['seed']}: {leak['test_in_train']:,} of {leak['test']:,} "
                   f"test pixels inside a training patch, {leak['test_in_val']:,} inside a "
                   "validation patch")
    if is_main_process():
        click.echo(f"run folder: {out}")


@hsi.command("evaluate")
@click.argument("run", type=click.Path())
@click.option("--no-progress", is_flag=True)
def hsi_evaluate(run: str, no_progress: bool) -> None:
    """Re-score a finished run's test split from its best checkpoint.

    \b
    Example:
      spectranet hsi evaluate runs/ip
    """
    from spectranet.hsi.inference import evaluate

    echo_metrics(evaluate(run, progress=not no_progress), _METRICS)


@hsi.command("predict")
@click.argument("run", type=click.Path())
@click.argument("cube", type=click.Path())
@click.option("--gt", type=click.Path(), help="Label map to score the prediction against.")
@click.option("--cube-variable")
@click.option("--gt-variable")
@click.option("--out", type=click.Path(), required=True)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--no-progress", is_flag=True)
def hsi_predict(run: str, cube: str, gt: str | None, cube_variable: str | None,
                gt_variable: str | None, out: str, device: str, no_progress: bool) -> None:
    """Classification map of a new cube with a run's model (map.npy holds your label ids).

    \b
    Example:
      spectranet hsi predict runs/ip \\
          $SPECTRANET_DATA/hsi/indian_pines/Indian_pines_corrected.mat --out runs/ip_map
    """
    from spectranet.hsi.inference import predict

    result = predict(run, cube, gt=gt, out=out, cube_variable=cube_variable,
                     gt_variable=gt_variable, device=device, progress=not no_progress)
    click.echo(f"map: {Path(out) / 'map.npy'} ({result['pixels_per_second']:.0f} pixels/s)")
    if "metrics" in result:
        echo_metrics(result["metrics"], _METRICS)
