"""How the sound ``standard`` preset was chosen: an ablation of its ingredients.

``spectranet experiment chen2019 ablation --scale standard`` trains the preset's model
(``Cov1 + Cov2 + Cov3 + DilaCov1(2)``, Chen et al.'s Table 1 Test 1) once with every
ingredient on (:data:`ALL_INGREDIENTS`, fixed here so that the grid does not move when the
preset does) and once per variant that removes or changes one ingredient, all on one
cross-validation round (:data:`TEST_FOLD`; its validation fold is the previous fold present).
The preset keeps an ingredient only if removing it lowers **validation** accuracy; the test
fold's accuracy is reported beside it, never used to choose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spectranet.config import make_config
from spectranet.errors import ConfigError
from spectranet.experiments.grid import GridRun
from spectranet.experiments.report import Report, pct, save_plot, status_section

__all__ = ["ALL_INGREDIENTS", "EXPERIMENTS", "TEST_FOLD", "VARIANTS", "build_runs",
           "write_report"]

EXPERIMENTS = {"ablation": "the standard preset's ingredients, one at a time, on one round"}

#: The round of the ablation: test fold 1, validation fold 10, training folds 2 and 3 here.
TEST_FOLD = 1

#: Every ingredient on: the base of the ablation, on top of the ``standard`` preset.
ALL_INGREDIENTS: dict[str, Any] = {
    "batch_norm": True, "optimizer": "adamw", "lr": 0.003, "weight_decay": 0.01,
    "scheduler": "onecycle", "sampling": "clips", "augment": True, "mixup": 0.2,
    "label_smoothing": 0.0, "epochs": 60, "batch_size": 64, "validation": "fold",
    "val_windows": "middle",
}

#: Variant name -> (what it changes, overrides of :data:`ALL_INGREDIENTS`).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "all": ("every ingredient on", {}),
    "no_mixup": ("without mixup", {"mixup": 0.0}),
    "no_augment": ("without time shift and masking", {"augment": False}),
    "every_window": ("an epoch = every training window (the paper's), 1/6 of the epochs: the "
                     "same number of gradient steps", {"sampling": "windows", "epochs": 10}),
    "no_mixup_no_augment": ("without mixup, time shift and masking",
                            {"mixup": 0.0, "augment": False}),
    "no_batch_norm": ("without batch normalisation", {"batch_norm": False}),
    "adam_constant": ("Adam at a constant 0.001, no weight decay, instead of AdamW with a "
                      "one-cycle schedule", {"optimizer": "adam", "lr": 0.001,
                                             "scheduler": "none", "weight_decay": 0.0}),
    "label_smoothing": ("with label smoothing 0.1", {"label_smoothing": 0.1}),
}


def build_runs(name: str, scale: str) -> list[GridRun]:
    """One run per variant, on test fold :data:`TEST_FOLD`, without the MFCC baseline."""
    if scale != "standard":
        raise ConfigError(f"the {name} experiment runs at scale 'standard' only, got {scale!r}")
    return [GridRun(variant, "audio",
                    make_config("audio", "standard", folds=[TEST_FOLD], baseline="none",
                                jobs=1, **(ALL_INGREDIENTS | overrides)),
                    {"variant": variant, "change": change})
            for variant, (change, overrides) in VARIANTS.items()]


def _round(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if row["status"] != "done":
        return None
    rounds = row["metrics"].get("rounds") or [{}]
    return rounds[0]


def write_report(out: Path, rows: Sequence[Mapping[str, Any]], data: str) -> Path:
    """Render the ablation table: validation and test accuracy of each variant."""
    rep = Report("Sound `standard` preset: what each ingredient adds",
                 experiment="chen2019 ablation", scale="standard", data=data,
                 settings=["Base (`all`): preset `standard` with every ingredient on: "
                           + ", ".join(f"{k} {v}" for k, v in ALL_INGREDIENTS.items()) + ".",
                           f"One round: test fold {TEST_FOLD}, validation = the previous fold "
                           "present, training = the rest; seed 0; no MFCC baseline.",
                           "Validation accuracy: the best epoch's window accuracy on the middle "
                           "window of each validation clip (what chooses the checkpoint). Test: "
                           "clip accuracy, mean of window probabilities over every window."])
    base = _round(next((r for r in rows if r["name"] == "all"), {"status": "missing"}))
    body = []
    for r in rows:
        rnd = _round(r)
        cells = []
        for key in ("val_accuracy", "clip_accuracy"):
            value = rnd.get(key) if rnd else None
            ref = base.get(key) if base else None
            cells += [pct(value), "-" if value is None or ref is None or r["name"] == "all"
                      else f"{100 * (value - ref):+.1f}"]
        body.append([r["name"], r.get("change", "-"), *cells,
                     "-" if not rnd else f"{rnd.get('best_epoch')} / {rnd.get('epochs')}",
                     "-" if not rnd else f"{rnd['train_seconds'] / 60:.1f}"])
    rep.section("Ablation")
    rep.table("Each variant against every ingredient on", [
        "variant", "change", "validation %", "validation - all (points)", "test %",
        "test - all (points)", "best epoch / epochs", "train min"], body,
        note="A change that lowers validation accuracy marks an ingredient worth keeping. "
             "One round and one seed: differences of a few points are within the spread "
             "between seeds and folds, and the test column is reported, not used to choose.")
    rep.section("Decision", *_decision(rows))
    curves = {r["name"]: r for r in rows if r["status"] == "done"}
    if curves:
        rep.section("Validation curves")
        rep.figure("validation accuracy per epoch", save_plot(_curves_figure(out, curves), out,
                                                              "ablation_curves"))
    status_section(rep, rows, [])
    return rep.write(out)


def _decision(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The rule that turns the table into the preset, and what it picks."""
    scored = [(r, _round(r)) for r in rows]
    scored = [(r, rnd) for r, rnd in scored if rnd and rnd.get("val_accuracy") is not None]
    if not scored:
        return ["No finished run yet."]
    best, rnd = max(scored, key=lambda item: item[1]["val_accuracy"])
    return [f"Rule: the preset takes the variant with the highest "
            f"validation accuracy. Here: `{best['name']}` ({best.get('change', '')}), "
            f"{pct(rnd['val_accuracy'])} %.",
            "",
            "The `standard` preset then trains on every fold but the test fold (the validation "
            "fold too) for a fixed number of epochs, with no best-epoch selection: the "
            "schedule was fixed here, on validation curves, and the one-cycle schedule ends "
            "annealed; the number of epochs is the largest that keeps a run over four folds "
            "under 30 minutes on a 2-core CPU."]


def _curves_figure(out: Path, rows: Mapping[str, Mapping[str, Any]]) -> Any:
    import matplotlib.pyplot as plt

    from spectranet.engine.runs import read_json
    from spectranet.experiments.grid import run_dir

    fig, ax = plt.subplots(figsize=(7, 4))
    for name in rows:
        path = run_dir(out, name) / f"fold_{TEST_FOLD}" / "seed_0" / "metrics.json"
        if path.is_file():
            history = read_json(path)["history"]
            ax.plot([h["epoch"] / len(history) for h in history],
                    [h["val_accuracy"] for h in history], label=name)
    ax.set(xlabel="training progress (epoch / epochs)", ylabel="validation accuracy",
           ylim=(0, 1))
    ax.legend(fontsize=7)
    return fig
