"""The convergence table of experiment reports, on made-up validation curves."""

import json
import shutil

import pytest

from spectranet.engine.runs import atomic_write_json
from spectranet.experiments.convergence import convergence_section, summarise_curves
from spectranet.experiments.report import Report


def _curve(end: float, slope: float, n: int = 20) -> list[dict]:
    return [{"epoch": e + 1, "val_accuracy": end + slope * (e - n + 1)} for e in range(n)]


def test_flat_and_rising_runs(tmp_path):
    for fold, slope in ((1, 0.0), (2, 0.001)):  # run a: flat; run b rises 1 point per epoch
        atomic_write_json(tmp_path / f"runs/a/fold_{fold}/seed_0/metrics.json",
                          {"history": _curve(0.6, slope)})
        atomic_write_json(tmp_path / f"runs/b/fold_{fold}/seed_0/metrics.json",
                          {"history": _curve(0.5, 0.01)})
    atomic_write_json(tmp_path / "runs/a/metrics.json", {"history": _curve(0.0, 0.5)})  # summary
    rows = [{"name": n, "status": "done"} for n in ("a", "b")]
    rep = Report("t", experiment="x y", scale="standard", data="d", settings=[])
    convergence_section(rep, tmp_path, rows)
    table = rep.tables["Validation accuracy over the last epochs"]["rows"]
    # a: fold 2 gains 0.5 points between the two 5-epoch windows, fold 1 none
    assert table[0] == ["a", 2, 20, "59.9", "+0.3", "+0.5", "flat"]
    assert table[1] == ["b", 2, 20, "48.0", "+5.0", "+5.0", "still rising"]
    # a published folder keeps the numbers without its runs
    shutil.rmtree(tmp_path / "runs")
    again = Report("t", experiment="x y", scale="standard", data="d", settings=[])
    convergence_section(again, tmp_path, rows)
    assert again.tables["Validation accuracy over the last epochs"]["rows"] == table
    assert set(json.loads((tmp_path / "convergence.json").read_text())) == {"a", "b"}


def test_short_curves_are_not_judged():
    assert summarise_curves([[0.5] * 9]) is None


def test_unsettled_runs_withhold_the_verdicts_that_rest_on_them(tmp_path):
    from spectranet.engine.verdicts import HOLDS, compare_paired, comparison_cells
    from spectranet.experiments.convergence import unsettled_runs

    for fold in (1, 2, 3, 10):
        atomic_write_json(tmp_path / f"runs/a/fold_{fold}/seed_0/metrics.json",
                          {"history": _curve(0.6, 0.0)})
        atomic_write_json(tmp_path / f"runs/b/fold_{fold}/seed_0/metrics.json",
                          {"history": _curve(0.5, 0.01)})
    rows = [{"name": n, "status": "done"} for n in ("a", "b", "mfcc")]  # mfcc: no curves
    assert unsettled_runs(tmp_path, rows) == {"b"}
    c = compare_paired({1: 0.8, 2: 0.78, 3: 0.75, 10: 0.7}, {1: 0.75, 2: 0.74, 3: 0.72, 10: 0.66})
    assert comparison_cells(c)[-1] == HOLDS
    assert comparison_cells(c, unsettled=["b"])[-1] == (
        "no verdict (b: validation curve not flat)")
    # a published folder keeps no runs: the saved convergence.json still knows
    convergence_section(Report("t", experiment="x y", scale="s", data="d", settings=[]),
                        tmp_path, rows)
    shutil.rmtree(tmp_path / "runs")
    assert unsettled_runs(tmp_path, rows) == {"b"}


def test_mean_curves_from_runs_then_from_the_saved_file(tmp_path):
    from spectranet.experiments.convergence import mean_curves

    for seed, end in ((0, 0.6), (1, 0.8)):  # two seeds of different lengths: the shorter wins
        atomic_write_json(tmp_path / f"runs/a/seed_{seed}/metrics.json",
                          {"history": _curve(end, 0.0, n=10 + seed)})
    rows = [{"name": "a", "status": "done"}, {"name": "b", "status": "done"},
            {"name": "c", "status": "failed"}]
    assert mean_curves(tmp_path, rows) == {"a": pytest.approx([0.7] * 10)}
    convergence_section(Report("t", experiment="x y", scale="s", data="d", settings=[]),
                        tmp_path, rows)
    shutil.rmtree(tmp_path / "runs")
    assert mean_curves(tmp_path, rows) == {"a": pytest.approx([0.7] * 10)}
