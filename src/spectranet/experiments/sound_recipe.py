"""How the sound ``standard`` preset is chosen: an ablation of its levers, nested in the folds.

``spectranet experiment chen2019 ablation --scale standard`` trains the preset's model
(``Cov1 + Cov2 + Cov3 + DilaCov1(2)``, Chen et al.'s Table 1 Test 1) over every test fold
present, seed 0, once as the candidate recipe (:data:`CANDIDATE`, fixed here so that the grid
does not move when the preset does) and once per variant that changes one lever. In each round
the validation clips are a grouped share of that round's training folds (whole recordings,
:func:`spectranet.audio.protocol.grouped_validation`): no test fold, and no clip of the round's
test fold, takes part in any choice. Each round's rule picks the variant with the best fused
validation accuracy; the preset changes a lever only when every round picks it. The test folds'
accuracy is reported beside it, never used to choose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spectranet.config import make_config
from spectranet.errors import ConfigError
from spectranet.experiments.grid import GridRun
from spectranet.experiments.report import Report, pct, status_section

__all__ = ["CANDIDATE", "EXPERIMENTS", "VARIANTS", "build_runs", "choices", "write_report"]

EXPERIMENTS = {"ablation": "the standard preset's levers, one at a time, chosen in each round on "
                           "grouped validation clips of its training folds"}

#: The candidate recipe: the ``standard`` preset with grouped validation clips (20 % of the
#: training folds' recordings, the last epoch kept), the MFCC forest fused at a weight chosen
#: on them, 1200 optimisation steps.
CANDIDATE: dict[str, Any] = {
    "batch_norm": True, "optimizer": "adamw", "lr": 0.003, "weight_decay": 0.01,
    "scheduler": "onecycle", "sampling": "clips", "augment": False, "mixup": 0.2,
    "label_smoothing": 0.0, "class_weight": "none", "steps": 1200, "batch_size": 64,
    "validation": "group", "val_share": 0.2, "keep": "last",
    "baseline": "rf", "baseline_weight": "auto", "val_windows": "middle",
}

#: Variant name -> (what it changes, overrides of :data:`CANDIDATE`), the candidate first.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "candidate": ("the candidate recipe", {}),
    "no_mixup": ("without mixup", {"mixup": 0.0}),
    "augment": ("with time shift and time/frequency masking (SpecAugment-like)",
                {"augment": True}),
    "longer": ("twice the optimisation steps (2400)", {"steps": 2400}),
}


def build_runs(name: str, scale: str) -> list[GridRun]:
    """One run per variant over every test fold present, seed 0."""
    if scale != "standard":
        raise ConfigError(f"the {name} experiment runs at scale 'standard' only, got {scale!r}")
    return [GridRun(variant, "audio",
                    make_config("audio", "standard", jobs=1, seeds=[0],
                                **(CANDIDATE | overrides)),
                    {"variant": variant, "change": change})
            for variant, (change, overrides) in VARIANTS.items()]


def _rounds(row: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    """A finished run's rounds by test fold (empty for a run not done)."""
    if row.get("status") != "done":
        return {}
    return {r["fold"]: r for r in row["metrics"].get("rounds", []) if r.get("fusion")}


def _fused_val(rnd: Mapping[str, Any]) -> float:
    return rnd["fusion"]["val_accuracy_mixed"]


def choices(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What each round's validation clips pick, and what the preset takes from it.

    Returns
    -------
    dict
        ``folds`` (rounds every variant finished), ``picks`` (fold -> the variant with the
        best fused validation accuracy, ties to the earlier variant of :data:`VARIANTS`),
        ``adopted`` (the variant every round picks, or ``"candidate"``), ``fusion`` (fold ->
        validation accuracy at weights 0, 0.5 and 1 and the weight chosen, from the candidate)
        and ``equal_fusion`` (True when weight 0.5 beats 0 on validation in every round).
    """
    by_name = {r["name"]: _rounds(r) for r in rows}
    done = [n for n in VARIANTS if by_name.get(n)]
    folds = sorted(set.intersection(*(set(by_name[n]) for n in done))) if done else []
    picks = {f: max(done, key=lambda n: (_fused_val(by_name[n][f]), -done.index(n)))
             for f in folds}
    unanimous = set(picks.values())
    adopted = unanimous.pop() if len(unanimous) == 1 and len(done) == len(VARIANTS) else "candidate"
    fusion = {}
    for f, rnd in sorted(by_name.get("candidate", {}).items()):
        tried = rnd["fusion"]["weights_tried"]
        fusion[f] = {"w0": tried["0"], "w05": tried["0.5"], "w1": tried["1"],
                     "chosen": rnd["fusion"]["weight"]}
    equal = bool(fusion) and all(v["w05"] > v["w0"] for v in fusion.values())
    return {"folds": folds, "picks": picks, "adopted": adopted, "fusion": fusion,
            "equal_fusion": equal, "complete": len(done) == len(VARIANTS)}


def write_report(out: Path, rows: Sequence[Mapping[str, Any]], data: str) -> Path:
    """Render the ablation: each variant's validation accuracy per round, and the choices."""
    from spectranet.experiments.convergence import convergence_section

    rep = Report("Sound `standard` preset: its levers, chosen in each round on validation clips",
                 experiment="chen2019 ablation", scale="standard", data=data,
                 settings=["Candidate: preset `standard` with "
                           + ", ".join(f"{k} {v}" for k, v in CANDIDATE.items()) + ".",
                           "Each round: one test fold; its validation clips are 20 % of the "
                           "other folds' source recordings (`fsID`), stratified by class (each "
                           "round's `split.json`, `val`; folds and counts in its `metrics.json`, "
                           "`validation`); seed 0; the last epoch kept; the forest's weight in "
                           "the fusion chosen among 0, 0.1, ..., 1 on the same clips.",
                           "Validation accuracy here: clip accuracy of the fusion at its chosen "
                           "weight on the round's validation clips (every window scored). Test: "
                           "clip accuracy of the same fusion on the test fold, reported, never "
                           "used to choose."])
    by_name = {r["name"]: _rounds(r) for r in rows}
    folds = sorted({f for rounds in by_name.values() for f in rounds})
    body = []
    for r in rows:
        rounds = by_name.get(r["name"], {})
        vals = [_fused_val(rounds[f]) if f in rounds else None for f in folds]
        tests = [rounds[f]["fusion"]["test_accuracy_mixed"] for f in folds if f in rounds]
        done = [v for v in vals if v is not None]
        body.append([r["name"], r.get("change", "-"), *map(pct, vals),
                     pct(sum(done) / len(done)) if done else "-",
                     pct(sum(tests) / len(tests)) if tests else "-",
                     ", ".join(f"{rounds[f]['fusion']['weight']:g}" for f in folds
                               if f in rounds) or "-"])
    rep.section("Validation accuracy of each variant in each round")
    rep.table("Fused clip accuracy on each round's validation clips (%)", [
        "variant", "change", *(f"round {f}" for f in folds), "mean", "test, mean over rounds",
        "weight chosen per round"], body,
        note="One seed per round: differences of a point or two are within the spread between "
             "seeds. The test column is what the same recipe scored on the test folds.")
    rep.section("Decision", *_decision(choices(rows)))
    convergence_section(rep, out, rows, unit="test folds")
    status_section(rep, rows, [])
    return rep.write(out)


def _decision(chosen: Mapping[str, Any]) -> list[str]:
    """The rules that turn the rounds' validation into the preset, and what they pick."""
    if not chosen["folds"]:
        return ["No round finished for every variant yet."]
    lines = ["Rule for a lever: each round takes the variant with the best fused validation "
             "accuracy; the preset changes a lever only when every round takes the same variant "
             "(so that each round's result is what its own validation would have chosen).", "",
             "| round (test fold) | picked on its validation clips |", "|---|---|",
             *(f"| {f} | `{n}` |" for f, n in chosen["picks"].items()), "",
             _verdict(chosen)]
    if chosen["fusion"]:
        lines += ["", "Rule for the fusion: the preset fuses the CNN with the forest at equal "
                  "weight (0.5, fixed, so that it needs no validation clips and trains on every "
                  "training clip) when 0.5 beats the CNN alone (weight 0) on the validation "
                  "clips of every round.", "",
                  "| round (test fold) | CNN alone (w 0) | w 0.5 | forest alone (w 1) | "
                  "w chosen |", "|---|---|---|---|---|",
                  *(f"| {f} | {pct(v['w0'])} | {pct(v['w05'])} | {pct(v['w1'])} | "
                    f"{v['chosen']:g} |" for f, v in chosen["fusion"].items()), "",
                  "Equal-weight fusion " + ("beats the CNN alone in every round: the preset "
                                            "takes it." if chosen["equal_fusion"] else
                                            "does not beat the CNN alone in every round.")]
    return lines


def _verdict(chosen: Mapping[str, Any]) -> str:
    if not chosen["complete"]:
        return "Not every variant has finished: the preset keeps the candidate's levers for now."
    if chosen["adopted"] != "candidate":
        return f"Every round picks `{chosen['adopted']}`: the preset takes it."
    if set(chosen["picks"].values()) == {"candidate"}:
        return "Every round picks the candidate: the preset keeps its levers."
    return "The rounds do not agree: the preset keeps the candidate's levers."
