"""Experiment reports on tiny grids whose train functions return canned metrics with real keys."""

import json
import re
import shutil
from pathlib import Path

import pytest

from spectranet.errors import ConfigError
from spectranet.experiments import ahmad2020, chen2019, grid, list_experiments, run_experiment


def _header_ok(text: str, scale: str) -> None:
    for needle in ("- date: ", "- machine: ", "CPUs", f"- scale: `{scale}`", "- data: "):
        assert needle in text, needle


def test_chen2019_exp1_report(tmp_path, fake_runners):
    report = run_experiment("chen2019", "exp1", scale="quick", out=tmp_path, root=tmp_path,
                            progress=False)
    text = report.read_text()
    assert report == tmp_path / "report.md"
    _header_ok(text, "quick")
    assert f"**{chen2019.QUICK['epochs']} epochs** instead of the preset's" in text
    assert "Table 1 (ours)" in text and "`Cov1 + Cov2 + Cov3 + DilaCov1(2)`" in text
    assert "| 16, 16, 32, 32 |" in text
    assert "Claim: dilated better than max-pooling" in text
    # canned folds: differences 20, -7.5, 15, 22.5 points; std 13.7; t(0.975, 3) = 3.18
    assert ("| Group 1 | 1: +20.0, 2: -7.5, 3: +15.0, 10: +22.5 | +12.5 ± 13.7 | [-9.3, +34.3] "
            "| 3/4 | not distinguishable with 4 folds |") in text
    assert "The claim holds in 0 of 3 comparisons." in text
    assert "| dilated | 77 |" in text and "| Test 2: max-pooling |" in text
    for png in ("exp1_bars", "exp1_group3_folds"):
        assert f"figures/{png}.png" in text and (tmp_path / "figures" / f"{png}.png").is_file()
    rows = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [r["name"] for r in rows] == ["g1_dilated", "g1_pooling", "g2_dilated",
                                         "g2_pooling", "g3_dilated", "g3_pooling"]
    assert (tmp_path / "results.csv").read_text().count("\n") == 7
    assert "Table 1 (ours)" in json.loads((tmp_path / "tables.json").read_text())
    assert (tmp_path / "tables" / "table_1_ours.csv").is_file()


def test_chen2019_table4_report_with_baselines(tmp_path, fake_runners):
    text = run_experiment("chen2019", "table4", scale="paper", out=tmp_path, root=tmp_path,
                          progress=False).read_text()
    _header_ok(text, "paper")
    assert "500 epochs" in text
    for model in ("dilated CNN", "Piczak CNN", "Piczak CNN, long segments",
                  "unsupervised feature learning", "MFCC + SVM", "MFCC + random forest"):
        assert f"| {model} |" in text
    assert "| 78%, Dilated convolution (ours) |" in text
    assert "| 74%, Convolutional layers with max-pooling [25] |" in text
    assert "80, 80 (fixed)" in text and "275 features" in text
    assert "Claim: the dilated CNN above the other methods of Table 4" in text
    for other in ("Piczak CNN", "MFCC + SVM", "MFCC + random forest"):
        assert f"| dilated CNN vs {other} | 1: " in text


def test_chen2019_failed_run_is_listed_and_resumed(tmp_path, fake_runners, monkeypatch):
    def broken(config, folder, root):
        raise RuntimeError("out of memory")

    fake_mfcc = grid.RUNNERS["mfcc"]
    monkeypatch.setitem(grid.RUNNERS, "mfcc", broken)
    text = run_experiment("chen2019", "table4", out=tmp_path, root=tmp_path,
                          progress=False).read_text()
    assert "Runs not finished" in text and "RuntimeError: out of memory" in text
    monkeypatch.setitem(grid.RUNNERS, "mfcc", fake_mfcc)
    text = run_experiment("chen2019", "table4", out=tmp_path, root=tmp_path,
                          progress=False).read_text()
    assert "Runs not finished" not in text and "6 runs: 6 done" in text


def test_ahmad2020_window_report(tmp_path, fake_runners):
    text = run_experiment("ahmad2020", "table3", out=tmp_path, progress=False).read_text()
    _header_ok(text, "quick")
    assert "**windows 11, 15, 19, 25**" in text and "instead of 11, 13, 15, 17, 19, 21, 25" in text
    assert f"**{ahmad2020.QUICK['window_epochs']} epochs**" in text
    assert "Table II, indian_pines" in text and "Table III, indian_pines" in text
    assert "| 19 x 19 | 361,000 |" in text  # parameters column
    assert f"| 11 x 11 | 121,000 | 22 | {22 / ahmad2020.QUICK['window_epochs']:.1f} | 3 |" in text
    assert "| salinas | Salinas_corrected.mat is missing |" in text
    assert "not confirmed" not in text and "our choices: the dropout rate" in text
    # the paper's Table II (IP row, minutes) and Table III (IP columns) beside ours
    assert "| 3 | 0.33 |" in text and "| 3 | 0.76 |" in text
    assert "| 88.65 | 83.52 | 87.11 |" in text and "| 97.75 | 96.17 | 97.44 |" in text
    assert "Ahmad's Table III, same windows: best OA at 25 x 25 (97.75 %)" in text
    # the paper's words: its windows sentence names no scene; Colab offers a GPU
    assert ("rises from 88.65 % at 11 x 11 to 97.75 % at 25 x 25. Its text finds 11 x 11 "
            '"enough" for Pavia University, Salinas and Salinas-A') in text
    assert "other scenes only" not in text and "Google Colab with a GPU" not in text
    assert "minutes on Google Colab (the paper says Colab offers a GPU, not that" in text
    assert "figures/indian_pines_w19_disjoint_map.png" in text
    assert (tmp_path / "figures" / "indian_pines_w11_paper_curves.png").is_file()
    rows = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert len(rows) == 8 and {r["protocol"] for r in rows} == {"paper", "disjoint"}
    # table2 and figures are the same grid: nothing runs again
    before = (tmp_path / "runs" / "indian_pines_w11_paper" / "metrics.json").stat().st_mtime_ns
    run_experiment("ahmad2020", "figures", out=tmp_path, progress=False)
    after = (tmp_path / "runs" / "indian_pines_w11_paper" / "metrics.json").stat().st_mtime_ns
    assert before == after


def test_ahmad2020_table4_report(tmp_path, fake_runners):
    text = run_experiment("ahmad2020", "table4", out=tmp_path, progress=False).read_text()
    assert "Table IV, indian_pines" in text and "caption says 10 % of the training" in text
    assert "not confirmed" not in text and "typo" not in text
    for label in ahmad2020.MODELS.values():
        assert f"| {label} |" in text
    assert "share10: OA" in text and "disjoint: OA" in text
    assert "| Proposed | 97.75 | 94.54 | 97.44 |" in text
    assert "| 2D-CNN | 80.27 | 68.32 | 75.26 |" in text
    assert "| not in Table IV | - | - | - |" in text  # HybridSN
    assert "Its OA and kappa equal Table III's 25 x 25 row (97.75 / 96.17 / 97.44 %)" in text
    assert "not the 11 x 11 row (88.65 / 83.52 / 87.11 %)" in text
    # one seed at the quick scale: a verdict needs at least two
    assert ("| 3D CNN (Ben Hamida et al. 2018) | paper | +15.13 | 0: +5.00 | +5.00 | - | 1/1 | "
            "not distinguishable with 1 seed |") in text
    assert "| HybridSN (Roy et al. 2019) | disjoint | - | 0: +5.00 |" in text
    # Ahmad's other claims: canned runs have equal parameter counts and no validation curves
    assert "## indian_pines: parameters, convergence and time (Ahmad's other claims)" in text
    assert "| 2D CNN (Makantasis et al. 2015) | 2D | 121,000 | 121,000 | 1.00 | equal |" in text
    assert "| fast 3D CNN (Ahmad 2020) | paper | - | - | no curve |" in text
    assert ("| 3D CNN (Ben Hamida et al. 2018) | paper | 0: +0.0 | +0.0 | - | 0/1 | "
            "not distinguishable with 1 seed |") in text  # 22 s each
    assert "our implementations of the compared models" in text
    rows = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert len(rows) == 15
    assert {r["split"] for r in rows} == {"paper", "share10", "disjoint"}


def test_ahmad2020_paper_scale_judges_claims_over_seeds(tmp_path, fake_runners):
    text = run_experiment("ahmad2020", "table4", scale="paper", out=tmp_path,
                          progress=False).read_text()
    # canned: the fast 3D CNN 5 points above every other model under every seed
    assert ("| 2D CNN (Makantasis et al. 2015) | share10 | +17.48 | 0: +5.00, 1: +5.00, 2: +5.00 "
            "| +5.00 ± 0.00 | [+5.00, +5.00] | 3/3 | holds |") in text
    assert text.count("| holds |") == 12  # 4 comparison models x 3 splits
    text = run_experiment("ahmad2020", "table3", scale="paper", out=tmp_path / "w",
                          progress=False).read_text()
    assert "**windows 11, 15, 19, 25**" in text and "19 x 19: 0;" in text
    # canned: OA falls 1 point per pixel of window, the same under every seed
    assert ("| 15 x 15 above 11 x 11 | paper | 93.69 vs 88.65 | 0: -4.00, 1: -4.00, 2: -4.00 | "
            "-4.00 ± 0.00 | [-4.00, -4.00] | 0/3 | reversed |") in text
    assert "| 19 x 19 above 11 x 11 | disjoint | - | 0: -8.00 | -8.00 | - | 0/1 | " in text


def test_ahmad2020_paper_values_are_the_printed_ones():
    """Checked by hand against the paper's text (arXiv:2004.14152, Tables II-IV)."""
    table2, table3, table4 = (ahmad2020.PAPER[k] for k in ("Table II (minutes)", "Table III",
                                                            "Table IV"))
    assert table2["IP"] == {11: 0.33, 13: 0.33, 15: 0.61, 17: 0.78, 19: 0.62, 21: 0.58,
                            25: 0.76}
    assert table2["PU"][13] == 5.26 and table2["SL"][25] == 3.52 and table2["SL-A"][19] == 0.98
    assert table3["IP"][11] == (88.65, 83.52, 87.11)  # Table III, 11 x 11 row, IP
    assert table3["IP"][13] == (95.38, 94.14, 94.72)
    assert table3["IP"][25] == (97.75, 96.17, 97.44)  # Table III, 25 x 25 row, IP
    assert table3["PU"][11] == (99.94, 99.89, 99.92) and table3["SA"][19] == (98.04, 94.02, 97.81)
    assert table3["SL-A"][17] == (99.93, 99.93, 99.92)
    assert table4["IP"]["Proposed"] == (97.75, 94.54, 97.44)  # Table IV, IP row, "Proposed"
    assert table4["IP"]["3D-CNN"] == (82.62, 76.51, 79.25)
    assert table4["PU"]["Proposed"] == (98.40, 97.89, 97.89)
    assert table4["SA"]["Multi-scale-3D-CNN"] == (94.20, 96.66, 93.61)
    for rows in (*table2.values(), *table3.values()):
        assert sorted(rows) == [11, 13, 15, 17, 19, 21, 25]
    assert all(set(r) == {"Multi-scale-3D-CNN", "3D-CNN", "2D-CNN", "Proposed"}
               for r in table4.values())
    # the README's "paper: OA 97.75 %" (Table IV, 11 x 11) repeats Table III's 25 x 25 OA and
    # kappa, not its 11 x 11 row; the AA differs from both
    ip4, ip3 = table4["IP"]["Proposed"], table3["IP"]
    assert (ip4[0], ip4[2]) == (ip3[25][0], ip3[25][2]) and ip4[1] != ip3[25][1]
    assert ip4 != ip3[11]


def _published_copy(grid_folder: Path, target: Path) -> Path:
    """What ``docs/results/`` keeps of a grid folder: everything but ``runs/`` and grid files."""
    shutil.copytree(grid_folder, target,
                    ignore=shutil.ignore_patterns("runs", "grid.json", "grid.log"))
    return target


def test_published_grid_is_rendered_again_without_training(tmp_path, fake_runners, monkeypatch):
    run_experiment("ahmad2020", "table3", out=tmp_path / "grid", progress=False)
    published = _published_copy(tmp_path / "grid", tmp_path / "published")
    (published / "report.md").write_text("old report")
    results = (published / "results.json").read_text()

    def refuse(config, folder, root):
        raise AssertionError("a published grid must not train")

    monkeypatch.setitem(grid.RUNNERS, "hsi", refuse)
    text = run_experiment("ahmad2020", "table2", out=published, progress=False).read_text()
    assert "| 88.65 | 83.52 | 87.11 |" in text and "8 runs: 8 done" in text
    assert "rendered again from `results.json`, without training" in text
    assert "](figures/indian_pines_w19_disjoint_map.png)" in text  # the copied figures
    assert "| 11 x 11 | 121,000 | 22 |" in text and not (published / "runs").exists()
    assert (published / "results.json").read_text() == results
    # a grid folder with its runs renders as before, without the note
    text = run_experiment("ahmad2020", "table2", out=tmp_path / "grid", progress=False).read_text()
    assert "rendered again" not in text


def test_published_grid_takes_its_threads_from_the_grid_log(tmp_path, fake_runners):
    run_experiment("ahmad2020", "table3", out=tmp_path / "grid", progress=False)
    published = tmp_path / "published"
    shutil.copytree(tmp_path / "grid", published, ignore=shutil.ignore_patterns("runs"))
    threads = re.search(r"threads (\d+)", (published / "grid.log").read_text())[1]
    text = run_experiment("ahmad2020", "table2", out=published, progress=False).read_text()
    # the runs' config.json (canned: 3 threads) is gone; grid.log names the grid's threads
    assert f"| 11 x 11 | 121,000 | 22 | 2.8 | {threads} |" in text
    (published / "grid.log").write_text("")
    text = run_experiment("ahmad2020", "table2", out=published, progress=False).read_text()
    assert "| 11 x 11 | 121,000 | 22 | 2.8 | - |" in text


def test_published_grid_of_another_scale_is_refused(tmp_path, fake_runners):
    run_experiment("ahmad2020", "table4", out=tmp_path / "grid", progress=False)
    published = _published_copy(tmp_path / "grid", tmp_path / "published")
    with pytest.raises(ConfigError, match="15 epochs and 1 seed.*expected 50 and 3"):
        run_experiment("ahmad2020", "table4", scale="paper", out=published, progress=False)


def test_list_and_invalid_experiments(tmp_path):
    names = list_experiments()
    assert set(names["chen2019"]) == {"exp1", "exp2", "exp3", "table4", "ablation"}
    assert set(names["ahmad2020"]) == {"table2", "table3", "table4", "figures"}
    with pytest.raises(ConfigError, match="paper must be one of"):
        run_experiment("smith2021", "exp1", out=tmp_path)
    with pytest.raises(ConfigError, match="experiment must be one of"):
        run_experiment("chen2019", "table9", out=tmp_path)
    with pytest.raises(ConfigError, match="scale must be one of"):
        run_experiment("chen2019", "exp1", scale="huge", out=tmp_path)
    with pytest.raises(ConfigError, match="jobs must be"):
        run_experiment("chen2019", "exp1", jobs=0, out=tmp_path)


@pytest.mark.parametrize("name, table, claim", [
    ("exp2", "Table 2 (ours)", "Claim: rate 2 better than rate 3"),
    ("exp3", "Table 3 (ours)", "Claim: Table 1 model better than one more dilated"),
])
def test_chen2019_exp2_exp3_reports(tmp_path, fake_runners, name, table, claim):
    text = run_experiment("chen2019", name, out=tmp_path, root=tmp_path,
                          progress=False).read_text()
    assert table in text and claim in text and "6 runs: 6 done" in text
    assert (tmp_path / "figures" / f"{name}_bars.png").is_file()
    if name == "exp3":
        assert "| 16, 16, 32, 32, 32 |" in text  # the extra dilated layer gets a filter count


def test_chen2019_exp2_reuses_exp1_dilated_models(tmp_path, fake_runners, monkeypatch):
    run_experiment("chen2019", "exp1", out=tmp_path / "exp1", root=tmp_path, progress=False)
    trained, fake_audio = [], grid.RUNNERS["audio"]

    def counting(config, folder, root):
        trained.append(Path(folder).name)
        return fake_audio(config, folder, root)

    monkeypatch.setitem(grid.RUNNERS, "audio", counting)
    text = run_experiment("chen2019", "exp2", out=tmp_path / "exp2", root=tmp_path,
                          progress=False, reuse=[tmp_path / "exp1"]).read_text()
    assert trained == ["g1_rate3", "g2_rate3", "g3_rate3"]  # rate 2 = exp1's dilated models
    assert "Runs reused from other experiments" in text
    assert "| g2_rate2 | `exp1/runs/g2_dilated` |" in text and "6 runs: 6 done" in text
    exp1 = json.loads((tmp_path / "exp1" / "results.json").read_text())["runs"]
    exp2 = json.loads((tmp_path / "exp2" / "results.json").read_text())["runs"]
    assert exp2[0]["clip_accuracy"] == exp1[0]["clip_accuracy"]


def test_bad_grid_is_refused_before_features_are_prepared(tmp_path, fake_runners, monkeypatch):
    prepared = []
    monkeypatch.setattr(chen2019, "prepare", lambda runs, out, root: prepared.append(out))
    with pytest.raises(ConfigError, match="not a grid folder"):
        run_experiment("chen2019", "exp2", out=tmp_path / "out", root=tmp_path,
                       progress=False, reuse=[tmp_path])
    with pytest.raises(ConfigError, match="jobs must be"):
        run_experiment("chen2019", "exp2", jobs=0, out=tmp_path / "out", root=tmp_path)
    assert prepared == [] and not (tmp_path / "out").exists()
