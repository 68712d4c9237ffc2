"""Ahmad (2020)'s claims on parameters, convergence and time, on hand-checked small inputs."""

import math

import pytest

from spectranet.engine.runs import atomic_write_json
from spectranet.experiments.ahmad2020_claims import (
    DOES_NOT_HOLD,
    converged_by,
    converged_by_claims,
    fewer_parameters,
    settles_earlier,
    settling_epoch,
    table4_other_claims,
    tally,
)
from spectranet.experiments.ahmad2020_times import faster, grid_settings, time_caveat
from spectranet.experiments.report import Report

MODELS = {"fast3dcnn": "fast", "conv2d": "2D", "hamida": "3D"}


def _report() -> Report:
    return Report("t", experiment="ahmad2020 table4", scale="paper", data="d", settings=[])


@pytest.mark.parametrize(("curve", "epoch"), [
    ([0.2, 0.5, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9], 4),  # level 0.9; epoch 3 is 10 points off
    ([0.5, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0], 2),  # exactly 1 point off counts as inside
    ([0.9] * 10 + [0.85] + [0.9] * 6, 12),  # one late dip of 5 points moves the epoch
    ([0.5] * 5 + [0.9] * 5, 6),  # settled over exactly its last 5 epochs
    ([0.5] * 6 + [0.9] * 4, None),  # level (0.5 + 4 x 0.9) / 5 = 0.82: epoch 6 is 32 points off
    ([0.8, 0.9, 0.8, 0.9, 0.8, 0.9], None),  # level 0.86: every epoch 4-6 points off
    ([0.9] * 4, None),  # shorter than the 5 epochs of the final level
])
def test_settling_epoch(curve, epoch):
    assert settling_epoch(curve) == epoch


def test_settling_epoch_options_and_errors():
    # tolerance 10 points: epoch 3 (0.8) is exactly 10 points from the level 0.9
    assert settling_epoch([0.2, 0.5, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9], tolerance=0.1) == 3
    assert settling_epoch([0.1, 0.5, 0.5], last=2) == 2
    with pytest.raises(ValueError, match="tolerance must be >= 0, got -0.1"):
        settling_epoch([0.5] * 10, tolerance=-0.1)
    with pytest.raises(ValueError, match="last must be >= 1, got 0"):
        settling_epoch([0.5] * 10, last=0)


def test_verdict_rules():
    # the Table IV grid's counts: fast 3D CNN 995,456, 2D CNN 1,168,696, Ben Hamida 112,956
    assert fewer_parameters(995_456, 1_168_696) == "holds"
    assert fewer_parameters(995_456, 112_956) == "reversed"
    assert fewer_parameters(10, 10) == "equal"
    # "converged almost around 32": by epoch 32 + 5
    assert [converged_by(e) for e in (10, 31, 37, 38)] == ["holds", "holds", "holds",
                                                           DOES_NOT_HOLD]
    assert converged_by(None) == "no verdict (not settled)"
    # settles first by at least 5 epochs
    assert settles_earlier(10, 15) == "holds"
    assert settles_earlier(31, 9) == "reversed"
    assert settles_earlier(10, 14) == "not distinguishable (within 5 epochs)"
    assert settles_earlier(None, 9) == "no verdict"
    assert tally(["holds", "reversed", "reversed", "not distinguishable with 3 seeds",
                  "no verdict (a: not settled)"]) == (
        "holds 1, reversed 2, not distinguishable 1, no verdict 1")
    assert tally([]) == "-"


def _row(name, model, split, *, seconds, maps, parameters=1000, per_epoch=2.0):
    seeds = [{"seed": i, "overall_accuracy": 0.9, "train_seconds": t, "map_seconds": m}
             for i, (t, m) in enumerate(zip(seconds, maps, strict=True))]
    return {"name": name, "status": "done", "scene": "s", "model": model, "split": split,
            "parameters": parameters, "seconds_per_epoch": per_epoch,
            "metrics": {"seeds": seeds}}


def test_faster_pairs_seconds_by_seed():
    fast = _row("a", "fast3dcnn", "paper", seconds=[10, 12, 11], maps=[1, 1, 1])
    other = _row("b", "conv2d", "paper", seconds=[20, 21, 25], maps=[1, 1, 1])
    c = faster(fast, other, "train_seconds")
    # differences 10, 9, 14: mean 11, std sqrt(7); half-width t(0.975, 2) sqrt(7 / 3) = 4.30 x 1.53
    assert c.differences == (10.0, 9.0, 14.0) and c.mean == 11.0
    assert math.isclose(c.std, math.sqrt(7))
    assert math.isclose(c.low, 11 - 4.302653 * math.sqrt(7 / 3), rel_tol=1e-6)
    assert c.verdict == "holds" and c.agree == 3
    assert faster(other, fast, "train_seconds").verdict == "reversed"
    assert faster(fast, None, "train_seconds").verdict == "not run"


def test_grid_settings_from_the_log(tmp_path):
    assert grid_settings(tmp_path) == []
    (tmp_path / "grid.log").write_text(
        "2026-11-30 20:43:01 grid: 8 runs, 0 finished before, 8 to run, jobs 2, threads 1\n"
        "2026-11-30 20:43:01 queued x\n"
        "2026-11-30 22:09:37 grid: 8 runs, 1 finished before, 7 to run, jobs 2, threads 1\n"
        "2026-11-30 23:44:27 grid: 8 runs, 8 finished before, 0 to run, jobs 4, threads 1\n")
    # the last invocation trained nothing: its jobs do not describe the times
    assert grid_settings(tmp_path) == ["jobs 2, threads 1"]
    assert ("logged `jobs 2, threads 1` in `grid.log` (2 runs at a time, 1 torch thread(s) "
            "each: 2 CPU cores in use)") in time_caveat(tmp_path)


def test_converged_by_claims_rows():
    rep = _report()
    curves = {"a": [0.5] * 30 + [0.9] * 20, "b": [0.5] * 40 + [0.9] * 10}
    rows = [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    verdicts = converged_by_claims(rep, "T", ["run"], [(["a"], rows[0]), (["b"], rows[1]),
                                                       (["c"], rows[2]), (["d"], None)], curves)
    assert verdicts == ["holds", DOES_NOT_HOLD, "no curve", "not run"]
    assert rep.tables["T"]["rows"] == [["a", "90.0", "31", "holds"],
                                       ["b", "90.0", "41", DOES_NOT_HOLD],
                                       ["c", "-", "-", "no curve"], ["d", "-", "-", "not run"]]
    assert '"converged almost around 32 echos" (sic)' in "\n".join(rep.lines)


def test_table4_other_claims_on_a_small_grid(tmp_path):
    rows = [
        _row("f_p", "fast3dcnn", "paper", seconds=[10, 12, 11], maps=[3, 3, 3], parameters=995_456),
        _row("c_p", "conv2d", "paper", seconds=[20, 21, 25], maps=[1, 1.5, 1],
             parameters=1_168_696, per_epoch=1.0),
        _row("h_p", "hamida", "paper", seconds=[30, 31, 35], maps=[9, 9, 9], parameters=112_956),
        _row("f_d", "fast3dcnn", "disjoint", seconds=[5, 5, 5], maps=[1, 1, 1],
             parameters=995_456),
        _row("c_d", "conv2d", "disjoint", seconds=[6, 6, 6], maps=[1, 1, 1],
             parameters=1_168_696),
        _row("h_d", "hamida", "disjoint", seconds=[7, 7, 7], maps=[1, 1, 1], parameters=112_956),
    ]
    # mean validation curves as a published folder keeps them; settling epochs in comments
    mean = {"f_p": [0.5] * 30 + [0.9] * 20,  # 31
            "c_p": [0.5] * 8 + [0.9] * 42,  # 9
            "h_p": [0.5] * 33 + [0.9] * 17,  # 34: within 5 epochs of 31
            "f_d": [0.4, 0.5] * 25,  # not settled
            "c_d": [0.4] * 50, "h_d": [0.4] * 50}  # 1
    atomic_write_json(tmp_path / "convergence.json",
                      {n: {"summary": None, "mean_curve": c} for n, c in mean.items()})
    (tmp_path / "grid.log").write_text(
        "2026-11-30 20:43:01 grid: 6 runs, 0 finished before, 6 to run, jobs 2, threads 1\n")
    rep = _report()
    table4_other_claims(rep, "s", rows, tmp_path, ["paper", "disjoint"], MODELS)
    t = rep.tables
    assert t["Claim: the fast 3D CNN has fewer parameters than each comparison model (s)"][
        "rows"] == [["2D", "2D", "1,168,696", "995,456", "0.85", "holds"],
                    ["3D", "3D", "112,956", "995,456", "8.81", "reversed"]]
    assert t["Claim: the fast 3D CNN converges by about epoch 32 (s)"]["rows"] == [
        ["fast", "paper", "90.0", "31", "holds"],
        ["fast", "disjoint", "46.0", "not settled", "no verdict (not settled)"]]
    assert t["Validation curves: the epoch each model settles at (s)"]["rows"][:2] == [
        ["fast", "paper", "90.0", "31", "2.0", "62"], ["2D", "paper", "90.0", "9", "1.0", "9"]]
    assert t["Claim: the fast 3D CNN settles before each comparison model (s)"]["rows"] == [
        ["2D", "paper", "31", "9", "-22", "reversed"],
        ["3D", "paper", "31", "34", "+3", "not distinguishable (within 5 epochs)"],
        ["2D", "disjoint", "not settled", "1", "-", "no verdict (f_d: not settled)"],
        ["3D", "disjoint", "not settled", "1", "-", "no verdict (f_d: not settled)"]]
    ranking = t["Training and inference time per model (s, seconds per seed)"]["rows"]
    # paper split: training 11, 22, 32 s (ranks 1-3); inference 3, 1.17, 9 s (ranks 2, 1, 3)
    assert ranking[:3] == [["fast", "paper", "11.0 ± 1.0", "1/3", "3.0 ± 0.0", "2/3"],
                           ["2D", "paper", "22.0 ± 2.6", "2/3", "1.2 ± 0.3", "1/3"],
                           ["3D", "paper", "32.0 ± 2.6", "3/3", "9.0 ± 0.0", "3/3"]]
    training = t["Claim: the fast 3D CNN's training is quicker than each comparison model's (s)"]
    assert training["rows"][0][:3] == ["2D", "paper", "0: +10.0, 1: +9.0, 2: +14.0"]
    assert training["rows"][0][-1] == "holds"
    summary = {r[0]: r[-1] for r in
               t["Ahmad's claims on size, convergence and time: verdicts (s)"]["rows"][:4]}
    assert summary == {
        '"involves fewer parameters than other 2D/3D CNN models"': "holds 1, reversed 1",
        '"less complex than the conventional 3D CNN models"': "reversed 1",
        '"converged almost around 32 echos" (sic)':
            "paper: holds (epoch 31); disjoint: no verdict (not settled)",
        '"fast convergence"': "paper: reversed 1, not distinguishable 1; disjoint: no verdict 2"}
    text = "\n".join(rep.lines)
    assert "our implementations of the compared models" in text
    assert "2 CPU cores in use" in text and "not on the paper's hardware (Google Colab)" in text
    # the summary comes first, then the tables it counts
    assert text.index("verdicts (s)") < text.index("fewer parameters than each comparison")
