"""The table4 grid holds every row of Chen et al.'s Table 4, long segments and feature learning."""

import pytest

from spectranet.audio import pipeline
from spectranet.experiments import chen2019
from spectranet.experiments.chen2019_table4 import TABLE4_OURS


@pytest.mark.parametrize("scale", ["quick", "standard", "paper"])
def test_table4_grid_lists_the_two_new_rows(scale):
    runs, skipped = chen2019.build_runs("table4", scale)
    by = {r.name: r for r in runs}
    assert skipped == [] and list(by) == ["dilated", "piczak", "piczak_long", "ufl",
                                          "mfcc_svm", "mfcc_rf"]
    long, short = by["piczak_long"].config, by["piczak"].config
    assert by["piczak_long"].domain == "audio" and long.arch == "piczak"
    assert (long.frames, long.overlap, long.aggregate) == (101, 0.75, "vote")
    assert (short.frames, short.overlap) == (41, 0.5)
    # the long segments change the windows and the clip decision only
    assert {k for k in vars(long) if getattr(long, k) != getattr(short, k)} == {
        "frames", "overlap", "aggregate"}
    assert by["ufl"].domain == "mfcc" and by["ufl"].config.classifier == "ufl"
    assert by["ufl"].tags["model"] == "unsupervised feature learning"
    # every paper row has a model of ours in the grid
    models = {r.tags["model"] for r in runs}
    assert all(set(ours) <= models for ours in TABLE4_OURS.values())
    assert len(TABLE4_OURS) == len(chen2019.PAPER_CLAIMS["table4"]["rows"])


def test_prepare_extracts_each_window_setting_once(tmp_path, monkeypatch):
    runs, _ = chen2019.build_runs("table4", "quick")
    seen = []
    monkeypatch.setattr(pipeline, "features", lambda config, root=None: seen.append(
        (config.arch, config.frames, config.overlap)))
    chen2019.prepare(runs, tmp_path, None)
    assert sorted(seen) == [("Cov1 + Cov2 + Cov3 + DilaCov1(2)", 41, 0.5),
                            ("piczak", 101, 0.75)]
