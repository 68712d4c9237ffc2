import pytest

from spectranet.config import make_config
from spectranet.errors import ConfigError
from spectranet.experiments import run_experiment, sound_recipe
from spectranet.experiments.chen2019 import build_runs


def test_ablation_grid_changes_one_ingredient_per_run():
    runs, skipped = build_runs("ablation", "standard")
    assert skipped == [] and [r.name for r in runs] == list(sound_recipe.VARIANTS)
    base = runs[0].config
    assert (base.mixup, base.augment, base.sampling, base.scheduler, base.folds) == (
        0.2, True, "clips", "onecycle", [sound_recipe.TEST_FOLD])
    assert base.arch == make_config("audio", "standard").arch and base.baseline == "none"
    for run in runs[1:]:
        changed = {k for k, v in vars(run.config).items() if getattr(base, k) != v}
        assert changed == set(sound_recipe.VARIANTS[run.name][1]), run.name
        assert run.config.folds == [sound_recipe.TEST_FOLD]


def test_ablation_runs_at_standard_scale_only(tmp_path):
    with pytest.raises(ConfigError, match="runs at scale 'standard' only, got 'quick'"):
        run_experiment("chen2019", "ablation", scale="quick", out=tmp_path / "a")
    with pytest.raises(ConfigError, match="ahmad2020 runs at scale 'quick' or 'paper'"):
        run_experiment("ahmad2020", "table3", scale="standard", out=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _row(name, val, test, status="done"):
    rnd = {"val_accuracy": val, "clip_accuracy": test, "best_epoch": 50, "epochs": 60,
           "train_seconds": 600.0}
    return {"name": name, "status": status, "change": sound_recipe.VARIANTS[name][0],
            "metrics": {"rounds": [rnd]}}


def test_ablation_report_differences_against_standard(tmp_path):
    rows = [_row("all", 0.60, 0.65), _row("no_mixup", 0.55, 0.66),
            {"name": "no_augment", "status": "pending", "change": "x", "metrics": {}}]
    text = sound_recipe.write_report(tmp_path, rows, "data").read_text()
    assert "| all | every ingredient on | 60.0 | - | 65.0 | - | 50 / 60 | 10.0 |" in text
    assert "| no_mixup | without mixup | 55.0 | -5.0 | 66.0 | +1.0 | 50 / 60 | 10.0 |" in text
    assert "| no_augment | x | - | - | - | - | - | - |" in text
    assert "highest validation accuracy. Here: `all` (every ingredient on), 60.0 %" in text
    assert "`spectranet experiment chen2019 ablation --scale standard`" in text
