"""``report.md`` of a hyperspectral run: OA/AA/kappa and per-class tables like the paper's."""

from __future__ import annotations

from typing import Any

import numpy as np

from spectranet.config import HSIConfig
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
        f"`{config.protocol}`, preset `{config.preset}`, {config.epochs} epochs, "
        f"{config.optimizer} lr {config.lr}, batch {config.batch_size}, "
        f"dropout {config.dropout or 'model default'}, "
        + ("class-balanced loss, " if config.class_weight == "balanced" else "")
        + f"precision {precision}, seeds {seeds}. Model: {per_seed[0]['parameters']:,} parameters.",
        "",
        _protocol_text(config),
        "",
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
            f"![map, seed {s}](seed_{s}/figures/map.png)",
            f"![curves, seed {s}](seed_{s}/figures/curves.png)",
            f"![confusion, seed {s}](seed_{s}/figures/confusion_matrix.png)",
            "",
        ]
    return "\n".join(lines) + "\n"


def _protocol_text(config: HSIConfig) -> str:
    if config.protocol == "disjoint":
        return (
            "Leakage-free protocol: spatially disjoint training, validation and test regions; "
            "no training or validation patch contains a test pixel; PCA and scaling fitted on "
            "training pixels only."
        )
    if config.train_per_class is not None:
        return (f"Fixed training share per class: {config.train_per_class} "
                "(count if an integer, fraction if a float); PCA on the whole cube.")
    return (
        f"Paper protocol: stratified random split, {config.test_size:.0%} test, the rest split "
        f"{1 - config.val_fraction:.0%}/{config.val_fraction:.0%} into training and validation; "
        "PCA fitted on the whole cube, as in the paper."
    )
