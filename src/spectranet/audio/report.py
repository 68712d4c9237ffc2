"""``report.md`` of a sound run: clip accuracy per fold, mean ± std, per-class accuracy."""

from __future__ import annotations

from typing import Any

from spectranet.audio.datasets import ClipTable
from spectranet.audio.extraction import WindowTable
from spectranet.config import AudioConfig, describe_preset
from spectranet.engine.optim import schedule_text

__all__ = ["render"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _protocol(config: AudioConfig) -> str:
    if config.validation == "none":
        length = (f"{config.epochs} epochs" if config.steps is None
                  else f"{config.steps} optimisation steps")
        return ("Protocol: test fold k, training = every other fold, no validation fold: a fixed "
                f"schedule of {length}, the last epoch's weights are tested; "
                "normalisation statistics from the training folds only.")
    return ("Protocol: test fold k, validation fold = the previous fold present, training = the "
            "rest; normalisation statistics from the training folds only; checkpoint = best on "
            "validation " + ("(window accuracy on the middle window of each validation clip)."
                             if config.val_windows == "middle"
                             else "(window accuracy on every validation window)."))


def _baseline_section(metrics: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    name = {"rf": "MFCC + random forest", "svm": "MFCC + SVM",
            "ufl": "unsupervised feature learning + random forest"}[baseline["classifier"]]
    ours = {f["fold"]: f["clip_accuracy"] for f in metrics["folds"]}
    what = ("Per-clip spherical k-means codes of whitened log-mel patches, learnt on the "
            f"training folds only ({baseline['n_features']} features), "
            if baseline["classifier"] == "ufl"
            else "Per-clip MFCC statistics (25 coefficients, 275 features) ")
    lines = [f"## Against the {name} baseline (same folds, same test clips)", "",
             what + "and scikit-learn's classifier, trained on the same training folds as "
             "the CNN.", "",
             "| test fold | CNN (%) | baseline (%) | CNN - baseline (points) |",
             "|---|---|---|---|"]
    for f in baseline["folds"]:
        cnn = ours.get(f["fold"])
        diff = "-" if cnn is None else f"{100 * (cnn - f['clip_accuracy']):+.2f}"
        lines.append(f"| {f['fold']} | {_pct(cnn)} | {_pct(f['clip_accuracy'])} | {diff} |")
    wins = sum(ours[f["fold"]] > f["clip_accuracy"] for f in baseline["folds"] if f["fold"] in ours)
    lines += [f"| **mean** | **{_pct(metrics['mean']['clip_accuracy'])}** | "
              f"**{_pct(baseline['clip_accuracy'])}** | "
              f"{100 * (metrics['mean']['clip_accuracy'] - baseline['clip_accuracy']):+.2f} |", "",
              f"The CNN wins {wins} of {len(baseline['folds'])} folds. Baseline macro-F1: "
              f"{_pct(baseline['macro_f1'])} %.", ""]
    return lines


def render(config: AudioConfig, clips: ClipTable, windows: WindowTable, precision: str,
           metrics: dict[str, Any]) -> str:
    """Markdown report of a cross-validated sound run."""
    about = describe_preset("audio", config.preset) if config.preset else ""
    mean, std = metrics["mean"], metrics["std"]
    lines = [
        f"# `{config.arch}` on {config.dataset}",
        "",
        f"Preset `{config.preset}`" + (f" ({about})" if about else "") + ": "
        f"{config.optimizer} lr {config.lr}"
        + (f" momentum {config.momentum} nesterov {config.nesterov}" if config.optimizer == "sgd"
           else "")
        + f", batch {config.batch_size}, "
        f"{schedule_text(config.epochs, config.steps, [r['epochs'] for r in metrics['rounds']])}"
        f", dropout {config.dropout}, "
        f"augmentation {'on' if config.augment else 'off'}, "
        + (f"weight decay {config.weight_decay}, " if config.weight_decay else "")
        + ("batch norm, " if config.batch_norm else "")
        + (f"{config.scheduler} schedule, " if config.scheduler != "none" else "")
        + ("an epoch = one random window per training clip, " if config.sampling == "clips"
           else "an epoch = every training window, ")
        + (f"mixup {config.mixup}, " if config.mixup else "")
        + (f"label smoothing {config.label_smoothing}, " if config.label_smoothing else "")
        + ("class-balanced loss, " if config.class_weight == "balanced" else "")
        + f"precision {precision}, "
        f"seeds {config.seeds}, filters {config.filters or 'default 32, 32, 64, 64 (assumed)'}.",
        "",
        f"Features: {config.sr} Hz, FFT {config.n_fft}, hop {config.hop_length}, "
        f"{config.n_mels} mel bands, windows of {config.frames} frames with "
        f"{config.overlap:.0%} overlap, log-mel + deltas; clips shorter than one window padded "
        f"by {'repetition' if config.short_clip == 'repeat' else 'zeros'}. {len(clips)} clips, "
        f"{len(windows)} windows ({int(windows.silent.sum())} silent, dropped from training "
        f"only: {config.drop_silent}). Clip score: {config.aggregate} of window probabilities.",
        "",
        *(["The `standard` recipe was chosen on validation accuracy only, never on test folds: "
           "see `spectranet experiment chen2019 ablation --scale standard`.", ""]
          if config.preset == "standard" else []),
        _protocol(config),
        "",
        "## Accuracy per test fold",
        "",
        "| test fold | clips | clip accuracy (%) | window accuracy (%) |",
        "|---|---|---|---|",
    ]
    for f in metrics["folds"]:
        lines.append(f"| {f['fold']} | {f['test_clips']} | {_pct(f['clip_accuracy'])} | "
                     f"{_pct(f['window_accuracy'])} |")
    lines.append(f"| **mean ± std** | | **{_pct(mean['clip_accuracy'])} ± "
                 f"{_pct(std['clip_accuracy'])}** | {_pct(mean['window_accuracy'])} ± "
                 f"{_pct(std['window_accuracy'])} |")
    lines += ["", f"Macro-F1 (test clips pooled over folds): {_pct(metrics['macro_f1'])} %. "
              f"Training time, all rounds: {metrics['train_seconds']:.0f} s.", ""]
    baseline = metrics.get("baseline")
    if baseline:
        lines += _baseline_section(metrics, baseline)
    lines += ["## Per class (test clips pooled over folds)", ""]
    head = "| class | accuracy (%) |" + (" baseline (%) |" if baseline else "")
    lines += [head, "|---|---|" + ("---|" if baseline else "")]
    for k, (name, acc) in enumerate(zip(clips.class_names, metrics["per_class_accuracy"],
                                        strict=True)):
        extra = f" {_pct(baseline['per_class_accuracy'][k])} |" if baseline else ""
        lines.append(f"| {name} | {_pct(acc)} |{extra}")
    if metrics.get("warnings"):
        lines += ["", "## Warnings", "", *[f"- {w}" for w in metrics["warnings"]]]
    skipped = [*clips.skipped, *windows.skipped]
    if skipped:
        lines += ["", f"## Skipped files ({len(skipped)})", ""]
        lines += [f"- `{path}`: {reason}" for path, reason in skipped]
    lines += ["", "## Figures", "", "![accuracy per fold](figures/fold_accuracy.png)",
              "![confusion matrix](figures/confusion_matrix.png)",
              "![one clip per class](figures/examples.png)", ""]
    return "\n".join(lines)

