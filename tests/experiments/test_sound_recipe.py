import pytest

from spectranet.config import make_config
from spectranet.errors import ConfigError
from spectranet.experiments import run_experiment, sound_recipe
from spectranet.experiments.chen2019 import build_runs


def test_ablation_grid_changes_one_lever_per_run_on_grouped_validation():
    runs, skipped = build_runs("ablation", "standard")
    assert skipped == [] and [r.name for r in runs] == list(sound_recipe.VARIANTS)
    base = runs[0].config
    assert runs[0].name == "candidate"
    assert (base.validation, base.val_share, base.keep, base.baseline, base.baseline_weight,
            base.steps, base.folds, base.seeds) == ("group", 0.2, "last", "rf", "auto", 1200,
                                                    None, [0])
    assert base.arch == make_config("audio", "standard").arch
    for run in runs[1:]:
        changed = {k for k, v in vars(run.config).items() if getattr(base, k) != v}
        assert changed == set(sound_recipe.VARIANTS[run.name][1]), run.name


def test_ablation_runs_at_standard_scale_only(tmp_path):
    with pytest.raises(ConfigError, match="runs at scale 'standard' only, got 'quick'"):
        run_experiment("chen2019", "ablation", scale="quick", out=tmp_path / "a")
    with pytest.raises(ConfigError, match="ahmad2020 runs at scale 'quick' or 'paper'"):
        run_experiment("ahmad2020", "table3", scale="standard", out=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _round(fold, val, test, w0=0.5, w05=0.6, w1=0.4, weight=0.5):
    tried = {f"{k / 10:g}": 0.0 for k in range(11)} | {"0": w0, "0.5": w05, "1": w1}
    return {"fold": fold, "train_seconds": 60.0, "fusion": {
        "val_accuracy_mixed": val, "test_accuracy_mixed": test, "weights_tried": tried,
        "weight": weight}}


def _row(name, vals, tests, status="done", **fusion):
    rounds = [_round(f, v, t, **fusion) for f, v, t in zip((1, 2, 3, 10), vals, tests,
                                                             strict=False)]
    return {"name": name, "status": status, "change": sound_recipe.VARIANTS[name][0],
            "metrics": {"rounds": rounds}}


def _all(no_mixup_vals, **fusion):
    return [_row("candidate", [.60, .62, .58, .61], [.65, .66, .64, .67], **fusion),
            _row("no_mixup", no_mixup_vals, [.60] * 4),
            _row("augment", [.50] * 4, [.70] * 4),
            _row("longer", [.59, .61, .57, .60], [.70] * 4)]


def test_a_lever_changes_only_when_every_round_picks_it():
    split = sound_recipe.choices(_all([.61, .63, .57, .62]))
    assert split["picks"] == {1: "no_mixup", 2: "no_mixup", 3: "candidate", 10: "no_mixup"}
    assert split["adopted"] == "candidate" and split["complete"]
    assert sound_recipe.choices(_all([.61, .63, .59, .62]))["adopted"] == "no_mixup"
    # a tie goes to the earlier variant (the candidate)
    assert sound_recipe.choices(_all([.60, .62, .58, .61]))["picks"] == {
        1: "candidate", 2: "candidate", 3: "candidate", 10: "candidate"}
    # the test column never takes part: augment's test is the best and it is never picked
    assert "augment" not in split["picks"].values()


def test_equal_weight_fusion_needs_every_round():
    assert sound_recipe.choices(_all([.5] * 4))["equal_fusion"] is True
    rows = _all([.5] * 4)
    rows[0]["metrics"]["rounds"][2]["fusion"]["weights_tried"]["0.5"] = 0.5  # = w 0: no gain
    chosen = sound_recipe.choices(rows)
    assert chosen["equal_fusion"] is False and chosen["fusion"][3] == {
        "w0": 0.5, "w05": 0.5, "w1": 0.4, "chosen": 0.5}


def test_ablation_report_tables_each_round_and_the_decision(tmp_path):
    rows = _all([.61, .63, .59, .62])
    rows[3] = {"name": "longer", "status": "pending", "change": "x", "metrics": {}}
    text = sound_recipe.write_report(tmp_path, rows, "data").read_text()
    assert ("| candidate | the candidate recipe | 60.0 | 62.0 | 58.0 | 61.0 | 60.2 | 65.5 | "
            "0.5, 0.5, 0.5, 0.5 |") in text
    assert "| longer | x | - | - | - | - | - | - | - |" in text
    assert "| 3 | `no_mixup` |" in text
    assert "Not every variant has finished: the preset keeps" in text
    assert "| 1 | 50.0 | 60.0 | 40.0 | 0.5 |" in text
    assert "beats the CNN alone in every round: the preset takes it." in text
    assert "`spectranet experiment chen2019 ablation --scale standard`" in text


@pytest.mark.parametrize("name", ["exp1", "exp2", "exp3", "table4"])
def test_published_standard_grids_keep_their_configs_when_the_preset_moves(name):
    """The committed chen2019 grids trained 50 epochs without fusion: a preset change
    (steps, baseline_weight) must not change what rerunning them would train."""
    import dataclasses
    import json
    from pathlib import Path

    path = Path(__file__).parents[2] / "docs" / "results" / f"chen2019_{name}" / "grid.json"
    saved = {r["name"]: r["config"] for r in json.loads(path.read_text())["runs"]}
    runs, _ = build_runs(name, "standard")
    for run in runs:
        if run.name not in saved:  # a row added since (table4's new methods)
            continue
        now = dataclasses.asdict(run.config)
        assert {k: now[k] for k in saved[run.name]} == saved[run.name], run.name
        if run.domain == "audio":  # the CNN rows; the baselines' rows have no schedule
            assert run.config.steps is None and run.config.baseline_weight == 0.0
