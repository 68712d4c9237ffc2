"""``report.md`` of a hyperspectral run: OA/AA/kappa and per-class tables like the paper's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spectranet.config import HSIConfig
from spectranet.engine.optim import schedule_text
from spectranet.hsi import paper_tables
from spectranet.hsi.datasets import Scene

__all__ = ["render", "pm"]


def pm(values: list[float | None], *, percent: bool = True) -> str:
    """Format values as ``mean ± std`` (percent by default); ``-`` if none is known."""
    known = np.asarray([v for v in values if v is not None], dtype=float)
    if known.size == 0:
        return "-"
    scale = 100.0 if percent else 1.0
    if known.size == 1:
        return f"{scale * known[0]:.2f}"
    return f"{scale * known.mean():.2f} ± {scale * known.std():.2f}"


def _extras(config: HSIConfig) -> str:
    """The options beyond the paper's recipe that are switched on, e.g. "flips, mixup 0.4, "."""
    parts = [f"{name.replace('_', ' ')} {getattr(config, name)}"
             for name in ("weight_decay", "spectral_noise", "spectral_shift", "label_smoothing",
                          "mixup", "block", "split_window") if getattr(config, name)]
    return ("random flips and rotations, " if config.flips else "") + (
        "spectra divided by their L2 norm, " if config.unit_norm else "") + (
        "no PCA (standardised bands), " if not config.pca else "") + (
        "stem started as the training PCA, " if config.stem_init == "pca" else "") + "".join(
        f"{p}, " for p in parts) + (
        f"a spectral SVM's probabilities mixed in at weight {config.svm_weight}"
        + (f" (its window {config.svm_neighbourhood})" if config.svm_neighbourhood != 1 else "")
        + ", " if config.svm_weight else "") + (
        f"one round of self-training at confidence {config.self_training}, "
        if config.self_training else "")


def render(
    scene: Scene,
    config: HSIConfig,
    precision: str,
    per_seed: list[dict[str, Any]],
) -> str:
    """Markdown report of a run over one or several seeds."""
    seeds = [r["seed"] for r in per_seed]
    lines = [
        f"# {config.model} on {scene.name}",
        "",
        f"Window {config.window} x {config.window} x {config.components}, protocol "
        f"`{'split file' if config.split_file else config.protocol}`, "
        f"preset `{config.preset}`, "
        f"{schedule_text(config.epochs, config.steps, [r['epochs'] for r in per_seed])}, "
        f"{config.optimizer} lr {config.lr}"
        + (f" ({config.scheduler} schedule)" if config.scheduler != "none" else "")
        + f", batch {config.batch_size}, "
        f"dropout {config.dropout or 'model default'}, "
        + ("class-balanced loss, " if config.class_weight == "balanced" else "")
        + _extras(config)
        + f"precision {precision}, seeds {seeds}. Model: {per_seed[0]['parameters']:,} parameters.",
        "",
        _protocol_text(config, per_seed[0]),
        "",
        *_leakage_lines(config, per_seed),
        "## Overall results (test set)",
        "",
        "| metric | value (%) |",
        "|---|---|",
    ]
    for key, label in (("overall_accuracy", "OA"), ("average_accuracy", "AA"),
                       ("kappa", "kappa x 100"), ("macro_f1", "macro F1")):
        lines.append(f"| {label} | {pm([r[key] for r in per_seed])} |")
    lines += [
        "",
        "| time (s) | value |",
        "|---|---|",
        f"| training (all epochs) | {pm([r['train_seconds'] for r in per_seed], percent=False)} |",
        f"| test inference | {pm([r['test_seconds'] for r in per_seed], percent=False)} |",
        f"| full-scene map | {pm([r['map_seconds'] for r in per_seed], percent=False)} |",
        "",
        *_seed_lines(per_seed),
        *_baseline_lines(per_seed),
        *_svm_mix_lines(per_seed),
        *_self_training_lines(per_seed),
        *_paper_section(scene.name, config, per_seed),
        "## Per class",
        "",
        "| id | class | train | val | test | accuracy (%) | precision (%) | recall (%) | F1 (%) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    counts = per_seed[0]["class_counts"]
    for i, (cid, name) in enumerate(zip(scene.class_ids, scene.class_names, strict=True)):
        cells = [pm([r[k][i] for r in per_seed]) for k in
                 ("per_class_accuracy", "precision", "recall", "f1")]
        lines.append(f"| {cid} | {name} | {counts['train'][i]} | {counts['val'][i]} | "
                     f"{counts['test'][i]} | " + " | ".join(cells) + " |")
    notes = per_seed[0].get("split_notes") or []
    if notes:
        lines += ["", "## Split notes", ""] + [f"- {n}" for n in notes]
    lines += ["", "## Figures", ""]
    for r in per_seed:
        s = r["seed"]
        lines += [
            f"Seed {s}: best epoch {r['best_epoch']} of {r['epochs']}.",
            "",
            f"![regions, seed {s}](seed_{s}/figures/regions.png)",
            f"![map, seed {s}](seed_{s}/figures/map.png)",
            f"![curves, seed {s}](seed_{s}/figures/curves.png)",
            f"![confusion, seed {s}](seed_{s}/figures/confusion_matrix.png)",
            "",
        ]
    return "\n".join(lines) + "\n"


def _seed_lines(per_seed: list[dict[str, Any]]) -> list[str]:
    """Per-seed table and the OA spread between seeds (max - min), for runs of several seeds.

    The table gives each seed's kept epoch and the validation OA of that epoch.
    """
    if len(per_seed) < 2:
        return []
    lines = ["## Per seed (test set)", "",
             "| seed | OA (%) | AA (%) | kappa x 100 | kept epoch | validation OA there (%) |",
             "|---|---|---|---|---|---|"]
    for r in per_seed:
        history = r.get("history", [])
        kept = history[r["best_epoch"] - 1] if 0 < r["best_epoch"] <= len(history) else {}
        val = kept.get("val_accuracy")  # the best epoch's, or the last's (validation "monitor")
        lines.append(f"| {r['seed']} | {100 * r['overall_accuracy']:.2f} | "
                     f"{100 * r['average_accuracy']:.2f} | {100 * r['kappa']:.2f} | "
                     f"{r['best_epoch']} | {'-' if val is None else f'{100 * val:.2f}'} |")
    oa = [100 * r["overall_accuracy"] for r in per_seed]
    return lines + ["", f"OA spread between seeds (max - min): {max(oa) - min(oa):.2f} points.",
                    ""]


def _baseline_lines(per_seed: list[dict[str, Any]]) -> list[str]:
    """The run beside the spectral SVM alone, fitted on the same training pixels per seed."""
    if "svm_baseline" not in per_seed[0]:  # runs written before every run had the baseline
        return []
    lines = ["## Against the spectral SVM (same training and test pixels)", "",
             "The classical baseline: an RBF SVM on each pixel's unit-length spectrum "
             "(`spectranet.hsi.spectral_svm`), fitted on this seed's training pixels only and "
             "scored on its test pixels.", "",
             "| seed | this run OA (%) | SVM alone OA (%) | difference (points) |",
             "|---|---|---|---|"]
    diffs = []
    for r in per_seed:
        ours, svm = r["overall_accuracy"], r["svm_baseline"]["overall_accuracy"]
        diffs.append(100 * (ours - svm))
        lines.append(f"| {r['seed']} | {100 * ours:.2f} | {100 * svm:.2f} | {diffs[-1]:+.2f} |")
    lines += [f"| **mean** | **{pm([r['overall_accuracy'] for r in per_seed])}** | "
              f"{pm([r['svm_baseline']['overall_accuracy'] for r in per_seed])} | "
              f"{np.mean(diffs):+.2f} |", "",
              f"This run is above the SVM alone on {sum(d > 0 for d in diffs)} of "
              f"{len(diffs)} seeds.", ""]
    return lines


def _svm_mix_lines(per_seed: list[dict[str, Any]]) -> list[str]:
    """OA of the CNN alone, the spectral SVM alone and their mix, per set (runs with an SVM)."""
    if "svm_mix" not in per_seed[0]:
        return []
    mixes = [r["svm_mix"] for r in per_seed]
    weights = sorted({m["weight"] for m in mixes})
    lines = [f"## The CNN and the spectral SVM (weight {weights[0]})" if len(weights) == 1
             else "## The CNN and the spectral SVM", "",
             "OA (%) of each part alone and of the mix that the results above score.", "",
             *_chosen_lines(per_seed),
             "| set | CNN alone | SVM alone | mix |", "|---|---|---|---|"]
    for name, label in (("val", "validation"), ("test", "test")):
        if f"{name}_accuracy_mixed" in per_seed[0]["svm_mix"]:
            lines.append(f"| {label} | " + " | ".join(
                pm([r["svm_mix"][f"{name}_accuracy_{part}"] for r in per_seed])
                for part in ("cnn", "svm", "mixed")) + " |")
    return lines + [""]


def _self_training_lines(per_seed: list[dict[str, Any]]) -> list[str]:
    """Each seed's pseudo-labels and its first and self-trained models (runs that self-train)."""
    if "self_training" not in per_seed[0]:
        return []
    first = per_seed[0]["self_training"]
    lines = [f"## Self-training (one round, confidence >= {first['threshold']})", "",
             "Each seed's first model (the recipe without self-training) classified the seed's "
             "unlabelled pool: labelled pixels in none of its training, validation and test "
             "sets, whose labels trained nothing. Patch rule: " + first["patch_rule"] + ". The "
             "eligible pool pixels whose top probability (of the mix, when mixing) reached the "
             "threshold took their top class as a pseudo-label; a fresh model of the same "
             "recipe and seed trained on them and the training pixels for as many optimisation "
             "steps (the SVM member fitted on the training pixels only; an `auto` weight chosen "
             "again on validation). The results above are the self-trained model's. Precision: the "
             "pseudo-labels' agreement with the ground truth (reported, never used).", "",
             "| seed | pool | eligible | pseudo-labelled | precision (%) | first: val OA (%) "
             "| first: test OA (%) | self-trained: val OA (%) | self-trained: test OA (%) |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f}"

    for r in per_seed:
        st = r["self_training"]
        one, two = st["first"], st.get("self_trained", {})
        lines.append(f"| {r['seed']} | {st['pool']:,} | {st['eligible']:,} | {st['kept']:,} | "
                     f"{cell(st.get('precision'))} | {cell(one['val_accuracy'])} | "
                     f"{cell(one['test_accuracy'])} | {cell(two.get('val_accuracy'))} | "
                     f"{cell(two.get('test_accuracy'))} |")
    if not all(r["self_training"]["retrained"] for r in per_seed):
        lines += ["", "A seed without a pseudo-label keeps its first model (-): the same "
                  "pixels, seed and steps would train it again."]
    return lines + [""]


def _chosen_lines(per_seed: list[dict[str, Any]]) -> list[str]:
    """Which SVM weight and window each seed chose on its validation pixels, if it chose."""
    chosen = [r for r in per_seed
              if {"weight_val_accuracy", "neighbourhood_val_accuracy"} & set(r["svm_mix"])]
    if not chosen:
        return []
    return ["Chosen on each seed's validation pixels (never its test pixels): "
            + "; ".join(f"seed {r['seed']}: weight {r['svm_mix']['weight']}, the SVM's window "
                        f"{r['svm_mix'].get('neighbourhood', 1)} x "
                        f"{r['svm_mix'].get('neighbourhood', 1)}" for r in chosen) + ".", ""]


def _paper_section(scene: str, config: HSIConfig, per_seed: list[dict[str, Any]]) -> list[str]:
    """Markdown lines quoting Ahmad (2020)'s printed numbers for this scene and window.

    Only for the fast 3D CNN on a scene the paper's tables print; otherwise no lines.
    """
    window = config.window
    table3 = paper_tables.table3(scene, window)
    table4 = paper_tables.table4(scene) if window == 11 else None
    if config.model != "fast3dcnn" or (table3 is None and table4 is None):
        return []
    labels = paper_tables.LABELS[scene]
    ours = [pm([r[k] for r in per_seed]) for k in ("overall_accuracy", "average_accuracy",
                                                    "kappa")]
    lines = ["## Ahmad (2020), as printed", "",
             f"{paper_tables.CITATION}; its tables' numbers (%) beside this run's.", "",
             "| source | OA | AA | kappa x 100 |", "|---|---|---|---|",
             f"| this run ({window} x {window}, protocol `{config.protocol}`, "
             f"{schedule_text(config.epochs, config.steps, [r['epochs'] for r in per_seed])}) | "
             + " | ".join(ours) + " |"]
    if table3 is not None:
        lines.append(f"| Table III, {labels['III']}, {window} x {window} row | "
                     + " | ".join(f"{v:.2f}" for v in table3) + " |")
    if table4 is not None:
        lines.append(f"| Table IV, {labels['IV']}, \"Proposed\" (caption: 11 x 11, 10 % "
                     "training samples) | " + " | ".join(f"{v:.2f}" for v in table4) + " |")
    lines.append("")
    minutes = paper_tables.table2_minutes(scene, window)
    if minutes is not None:
        lines += [f"Table II, {labels['II']}, {window} x {window}: {minutes:.2f} minutes on "
                  "Google Colab (the paper says Colab offers a GPU, not that its runs used one, "
                  "nor which steps the time covers); this run's training took "
                  f"{pm([r['train_seconds'] for r in per_seed], percent=False)} s on this CPU.",
                  ""]
    caveat = paper_tables.table4_vs_table3(scene) if table4 is not None else None
    if caveat:
        lines += [caveat, ""]
    split = ("The paper's split (its experimental section): 30 % test, the rest halved into "
             "training and validation, as our `paper` protocol"
             + ("; Table IV's caption says 10 % training samples instead." if table4 else "."))
    if config.protocol != "paper" or config.train_per_class is not None or config.split_file:
        split += " This run does not use that split."
    return lines + [split, "", "Not given by the paper, our choices: "
                    + "; ".join(paper_tables.OUR_CHOICES) + ".", ""]


def _leakage_lines(config: HSIConfig, per_seed: list[dict[str, Any]]) -> list[str]:
    """The leakage check of every seed's split: test pixels inside training/validation patches."""
    rows = [(r["seed"], r["leakage"]) for r in per_seed if r.get("leakage")]
    if not rows:
        return []
    fit = per_seed[0].get("preprocessing_fit", "train" if config.protocol == "disjoint" else "")
    fitted = ("training pixels only" if fit == "train"
              else "every pixel of the cube (test pixels included)")
    lines = ["## Leakage check", "",
             f"Patches of {config.window} x {config.window} pixels; {_fitted(config)} fitted on "
             f"{fitted}" + ("; the spectral SVM (and its scaling) on the training pixels only"
                            if config.svm_weight else "") + ".", "",
             "| seed | test pixels inside a training patch | inside a validation patch | "
             "validation pixels inside a training patch |", "|---|---|---|---|"]
    for seed, leak in rows:
        share = leak["test_in_train"] / leak["test"] if leak["test"] else 0.0
        lines.append(f"| {seed} | {leak['test_in_train']:,} of {leak['test']:,} ({share:.1%}) "
                     f"| {leak['test_in_val']:,} | {leak['val_in_train']:,} |")
    return [*lines, ""]


def _fitted(config: HSIConfig, *, first: bool = False) -> str:
    """What the reducer fits: "PCA and scaling", or "band scaling (no PCA)" ("Band" ``first``)."""
    if config.pca:
        return "PCA and scaling"
    return ("Band" if first else "band") + " scaling (no PCA)"


def _protocol_text(config: HSIConfig, first: dict[str, Any]) -> str:
    text = _split_text(config, first)
    if config.split_seed is not None:
        text += (f" Every seed uses the split drawn with split seed {config.split_seed}; the "
                 "seed only sets the model's initialisation and the batch order.")
    if config.validation == "monitor":
        last = "the last epoch" if config.steps else f"the last of {config.epochs} epochs"
        text += f" Validation: scored every epoch, {last} kept (no early stopping)."
    if config.validation == "none":
        text += (f" Validation: none. The validation pixels of this split trained too "
                 f"({schedule_text(config.epochs, config.steps, [first['epochs']])}, the last "
                 "kept); the test pixels are the split's own.")
    return text


def _split_text(config: HSIConfig, first: dict[str, Any]) -> str:
    if config.split_file is not None:
        return _split_file_text(config, first.get("split_info", {}))
    if config.protocol == "disjoint":
        return (
            "Leakage-free protocol: spatially disjoint training, validation and test regions "
            f"({config.test_size:.0%} of each class's kept pixels test, the rest split "
            f"{1 - config.val_fraction:.0%}/{config.val_fraction:.0%} into training and "
            "validation); no training or validation patch contains a test pixel; "
            f"{_fitted(config)} fitted on training pixels only."
        )
    if config.train_per_class is not None:
        return (f"Fixed training share per class: {config.train_per_class} "
                "(count if an integer, fraction if a float); PCA on the whole cube.")
    return (
        f"Paper protocol: random split stratified by class (the stratification is ours), "
        f"{config.test_size:.0%} test, the rest split "
        f"{1 - config.val_fraction:.0%}/{config.val_fraction:.0%} into training and validation; "
        f"{_fitted(config)} fitted on the whole cube (the paper applies its incremental PCA to "
        "the whole cube and names no scaling)."
    )


def _split_file_text(config: HSIConfig, info: dict[str, Any]) -> str:
    """The split file, its validation, its buffer and where PCA was fitted, in one paragraph."""
    files = " and ".join(f"`{Path(f).name}`" for f in info.get("files", [])) or "a file"
    window = config.window
    text = [f"Fixed split from {files} "
            + ("(a map of set codes; classes from the scene's ground truth)."
               if info.get("format") == "codes" else "(label maps of the scene's class ids).")]
    if info.get("validation") == "file":
        text.append("Validation: the file's validation pixels.")
    else:
        text.append(f"Validation: {config.val_fraction:.0%} of each class's training pixels, "
                    "drawn at random per seed (they lie among training pixels).")
    if info.get("buffer"):
        dropped = info.get("buffer_dropped", {})
        text.append(f"Buffer at window {window}: {dropped.get('train', 0):,} training and "
                    f"{dropped.get('val', 0):,} validation pixels whose {window} x {window} "
                    "patch held a test pixel were dropped (per class under Split notes).")
    if info.get("leakage_free"):
        text.append(f"{_fitted(config, first=True)} fitted on training pixels only: no test "
                    "pixel lies inside a training or validation patch.")
    else:
        text.append(f"{_fitted(config, first=True)} fitted on the whole cube: "
                    f"{info.get('test_in_patches_before_buffer', 0):,} test pixels lie inside "
                    "training or validation patches (see the leakage check; `--split-buffer` "
                    "drops the training and validation pixels near them).")
    return " ".join(text)
