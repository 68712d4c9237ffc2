"""``report.md`` of a sound run: clip accuracy per fold, mean ± std, per-class accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

from spectranet.audio.datasets import ClipTable
from spectranet.audio.extraction import WindowTable
from spectranet.config import AudioConfig, describe_preset
from spectranet.engine.optim import schedule_text
from spectranet.engine.verdicts import COMPARISON_HEADERS, RULE, compare_paired, comparison_cells

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
    if config.validation == "group":
        head = ("Protocol: test fold k, training = the other folds' clips less the validation "
                f"clips; validation = one of round(1 / {config.val_share}) folds of the training "
                "folds' source recordings (a recording's clips all on one side, class "
                "proportions kept where the recordings allow; scikit-learn's "
                "StratifiedGroupKFold, the round's seed), so no test fold takes part in any "
                "choice; normalisation statistics from the training clips only; ")
    else:
        head = ("Protocol: test fold k, validation fold = the previous fold present, training = "
                "the rest; normalisation statistics from the training folds only; ")
    return head + "checkpoint = best on validation " + (
        "(window accuracy on the middle window of each validation clip)."
        if config.val_windows == "middle" else "(window accuracy on every validation window).")


def _validation_section(metrics: dict[str, Any]) -> list[str]:
    rows = [r for r in metrics["rounds"] if r.get("validation")]
    if not rows or all(r["validation"]["clips"] == 0 for r in rows):
        return []
    lines = ["## Validation clips of each round", "",
             "The clips that chose the kept epoch" + (" and the fusion weight" if any(
                 (r.get("fusion") or {}).get("rule") == "auto" for r in rows) else "")
             + " (their indices: `fold_<k>/seed_<s>/split.json`, `val`).", "",
             "| test fold | seed | rule | from folds | clips | recordings | share of training "
             "clips (%) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        v = r["validation"]
        lines.append(f"| {r['fold']} | {r['seed']} | {v['rule']} | "
                     f"{', '.join(map(str, v['folds'])) or '-'} | {v['clips']} | "
                     f"{v['recordings']} | {_pct(v['share'])} |")
    return [*lines, ""]


def _fusion_section(metrics: dict[str, Any]) -> list[str]:
    rows = [r for r in metrics["rounds"] if r.get("fusion")]
    if not rows:
        return []
    lines = ["## Late fusion with the MFCC random forest", "",
             "Each test clip is classified by (1 - w) x CNN + w x forest clip probabilities; "
             "the forest (500 trees, seeded with the round's seed) is fitted on the round's "
             "training clips only; w is fixed, or chosen on the validation clips among 0, 0.1, "
             "..., 1 (ties to the smaller). The clip accuracy per test fold above is the "
             "fusion's (the window accuracy the CNN's). "
             "Clip accuracy (%):", "",
             "| test fold | seed | w | rule | val CNN | val forest | val fusion | test CNN | "
             "test forest | test fusion |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f = r["fusion"]
        lines.append(f"| {r['fold']} | {r['seed']} | {f['weight']:g} | {f['rule']} | "
                     + " | ".join(_pct(f.get(f"{part}_accuracy_{who}"))
                                  for part in ("val", "test")
                                  for who in ("cnn", "baseline", "mixed")) + " |")
    return [*lines, ""]


#: (column, key in a round's ``fusion``) of :func:`_seeds_section`.
_MEMBERS = (("CNN alone", "test_accuracy_cnn"), ("MFCC + random forest", "test_accuracy_baseline"),
            ("fusion", "test_accuracy_mixed"))


def _seeds_section(metrics: dict[str, Any]) -> list[str]:
    """Each fold's mean ± std over seeds of the CNN, the forest and their fusion; verdicts."""
    rounds = [r for r in metrics["rounds"] if r.get("fusion")]
    if not rounds:
        return []
    folds = list(dict.fromkeys(r["fold"] for r in rounds))
    acc = {(name, fold): [r["fusion"][key] for r in rounds if r["fold"] == fold]
           for name, key in _MEMBERS for fold in folds}

    def cell(values: list[float]) -> str:
        # population std (ddof 0), as every other mean ± std of the reports
        return (_pct(values[0]) if len(values) == 1
                else f"{_pct(float(np.mean(values)))} ± {_pct(float(np.std(values)))}")

    seeds = sorted({r["seed"] for r in rounds})
    lines = ["## Seeds, and the fusion against its members", "",
             "Test clip accuracy (%), mean ± std over seeds " + ", ".join(map(str, seeds))
             + " on each test fold; each seed's forest is seeded with that seed and fitted on "
             "the same training clips as its CNN. Last row: mean ± std over folds of the "
             "seed means.", "",
             "| test fold | seeds | " + " | ".join(name for name, _ in _MEMBERS) + " |",
             "|---|---|---|---|---|"]
    for fold in folds:
        lines.append(f"| {fold} | {len(acc[_MEMBERS[0][0], fold])} | "
                     + " | ".join(cell(acc[name, fold]) for name, _ in _MEMBERS) + " |")
    means = {name: {fold: float(np.mean(acc[name, fold])) for fold in folds}
             for name, _ in _MEMBERS}
    lines += ["| **over folds** | | " + " | ".join(
        f"**{cell(list(means[name].values()))}**" for name, _ in _MEMBERS) + " |", ""]
    pairs = [("fusion", "MFCC + random forest"), ("CNN alone", "MFCC + random forest"),
             ("fusion", "CNN alone")]
    lines += ["Paired by test fold over the seed means (points):", "",
              "| claim | " + " | ".join(COMPARISON_HEADERS) + " |",
              "|---|" + "---|" * len(COMPARISON_HEADERS)]
    for a, b in pairs:
        c = compare_paired(means[a], means[b], unit="folds")
        lines.append(f"| {a} > {b} | " + " | ".join(comparison_cells(c, digits=2)) + " |")
    lines += ["", RULE, "", "Per seed, fusion minus forest (points):", "",
              "| test fold | " + " | ".join(f"seed {s}" for s in seeds) + " |",
              "|---|" + "---|" * len(seeds)]
    for fold in folds:
        gain = {r["seed"]: r["fusion"]["test_accuracy_mixed"]
                - r["fusion"]["test_accuracy_baseline"] for r in rounds if r["fold"] == fold}
        lines.append(f"| {fold} | " + " | ".join(
            f"{100 * gain[s]:+.2f}" if s in gain else "-" for s in seeds) + " |")
    above = sum(r["fusion"]["test_accuracy_mixed"] > r["fusion"]["test_accuracy_baseline"]
                for r in rounds)
    return [*lines, "", f"The fusion is above the forest on {above} of {len(rounds)} rounds "
            "(test fold x seed).", ""]


def _baseline_section(metrics: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    name = {"rf": "MFCC + random forest", "svm": "MFCC + SVM",
            "ufl": "unsupervised feature learning + random forest"}[baseline["classifier"]]
    ours = {f["fold"]: f["clip_accuracy"] for f in metrics["folds"]}
    us = "fusion" if any(r.get("fusion") for r in metrics.get("rounds", [])) else "CNN"
    what = ("Per-clip spherical k-means codes of whitened log-mel patches, learnt on the "
            f"training folds only ({baseline['n_features']} features), "
            if baseline["classifier"] == "ufl"
            else "Per-clip MFCC statistics (25 coefficients, 275 features) ")
    lines = [f"## Against the {name} baseline (same folds, same test clips)", "",
             what + "and scikit-learn's classifier, trained on the same training folds as "
             "the CNN.", "",
             f"| test fold | {us} (%) | baseline (%) | {us} - baseline (points) |",
             "|---|---|---|---|"]
    for f in baseline["folds"]:
        cnn = ours.get(f["fold"])
        diff = "-" if cnn is None else f"{100 * (cnn - f['clip_accuracy']):+.2f}"
        lines.append(f"| {f['fold']} | {_pct(cnn)} | {_pct(f['clip_accuracy'])} | {diff} |")
    wins = sum(ours[f["fold"]] > f["clip_accuracy"] for f in baseline["folds"] if f["fold"] in ours)
    lines += [f"| **mean** | **{_pct(metrics['mean']['clip_accuracy'])}** | "
              f"**{_pct(baseline['clip_accuracy'])}** | "
              f"{100 * (metrics['mean']['clip_accuracy'] - baseline['clip_accuracy']):+.2f} |", "",
              f"The {us} wins {wins} of {len(baseline['folds'])} folds. Baseline macro-F1: "
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
        *(["The `standard` recipe was chosen on validation clips only, in each round a grouped "
           "share of its training folds (never a test fold): see `spectranet experiment "
           "chen2019 ablation --scale standard`.", ""]
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
    lines += _validation_section(metrics) + _fusion_section(metrics) + _seeds_section(metrics)
    baseline = metrics.get("baseline")
    if baseline:
        lines += _baseline_section(metrics, baseline)
        if config.validation == "group":
            lines += ["This baseline is fitted on every clip of the training folds (the CNN's "
                      f"validation clips too), with seed {config.seeds[0]}.", ""]
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

