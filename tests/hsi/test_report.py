"""The run report quotes Ahmad (2020)'s printed numbers for the fast 3D CNN on its scenes."""

from types import SimpleNamespace

import pytest

from spectranet.config import make_config
from spectranet.hsi import paper_tables
from spectranet.hsi.report import render


def _per_seed(oa: float) -> dict:
    return {"seed": 0, "overall_accuracy": oa, "average_accuracy": oa - 0.01, "kappa": oa - 0.02,
            "macro_f1": oa, "train_seconds": 10.0, "test_seconds": 1.0, "map_seconds": 2.0,
            "parameters": 995_456, "best_epoch": 3, "epochs": 4,
            "class_counts": {k: [1, 1] for k in ("train", "val", "test")},
            "per_class_accuracy": [oa, oa], "precision": [oa, oa], "recall": [oa, oa],
            "f1": [oa, oa]}


def _render(scene: str, **overrides) -> str:
    config = make_config("hsi", "paper", scene=scene, **overrides)
    fake = SimpleNamespace(name=scene, class_ids=(1, 2), class_names=("a", "b"))
    return render(fake, config, "fp32", [_per_seed(0.9)])


def test_indian_pines_11_quotes_table3_and_table4_with_the_caveat():
    text = _render("indian_pines")
    assert "## Ahmad (2020), as printed" in text
    assert "| this run (11 x 11, protocol `paper`, 50 epochs) | 90.00 | 89.00 | 88.00 |" in text
    assert "| Table III, IP, 11 x 11 row | 88.65 | 83.52 | 87.11 |" in text
    assert ("| Table IV, IP, \"Proposed\" (caption: 11 x 11, 10 % training samples) | 97.75 | "
            "94.54 | 97.44 |") in text
    assert "Table II, IP, 11 x 11: 0.33 minutes on Google Colab (the paper says Colab" in text
    assert "with a GPU" not in text
    assert paper_tables.table4_vs_table3("indian_pines") in text
    assert "Not given by the paper, our choices: the dropout rate" in text
    # the text's layer 4 (64 x 3 x 3 x 3 x 16) against Table I's 55,360 parameters
    assert "prints its kernels as 64 x 3 x 3 x 3 x 16, Table I's 55,360 parameters" in text


def test_other_windows_quote_table3_only_and_unprinted_cases_quote_nothing():
    text = _render("indian_pines", window=25, protocol="disjoint")
    assert "| Table III, IP, 25 x 25 row | 97.75 | 96.17 | 97.44 |" in text
    assert "Table IV" not in text and "This run does not use that split." in text
    assert "Ahmad (2020)" not in _render("indian_pines", window=9)
    assert "Ahmad (2020)" not in _render("indian_pines", model="hamida")
    assert "Ahmad (2020)" not in _render("ksc")


@pytest.mark.parametrize("scene, label", [("pavia_university", "PU"), ("salinas", "SA")])
def test_other_paper_scenes_use_their_own_rows(scene, label):
    text = _render(scene)
    assert f"| Table IV, {label}, \"Proposed\"" in text
    assert " ".join(f"{v:.2f} |" for v in paper_tables.TABLE_IV[label]["Proposed"]) in text
    assert "equal Table III's" not in text  # their Table IV rows repeat no Table III row


def test_report_names_the_options_beyond_the_paper():
    from spectranet.config import make_config
    from spectranet.hsi.report import _extras

    assert _extras(make_config("hsi", "paper", scene="indian_pines")) == ""
    cfg = make_config("hsi", "paper", scene="indian_pines", protocol="disjoint", flips=True,
                      mixup=0.4, block=40, split_window=11)
    assert _extras(cfg) == "random flips and rotations, mixup 0.4, block 40, split window 11, "


def test_several_seeds_get_a_per_seed_table_and_the_spread():
    config = make_config("hsi", "paper", scene="indian_pines", seeds=[0, 1, 2])
    fake = SimpleNamespace(name="indian_pines", class_ids=(1, 2), class_names=("a", "b"))
    seeds = [_per_seed(oa) | {"seed": s} for s, oa in enumerate((0.524, 0.6417, 0.663))]
    seeds[0]["history"] = [{"val_accuracy": 0.5}, {"val_accuracy": 0.682}, {"val_accuracy": 0.6}]
    seeds[0]["best_epoch"] = 2
    seeds[1]["history"] = [{"val_accuracy": None}]  # trained with validation "none"
    seeds[2]["history"] = [{"val_accuracy": 0.7}, {"val_accuracy": 0.5}, {"val_accuracy": 0.55}]
    text = render(fake, config, "fp32", seeds)  # seed 2 as under "monitor": the last epoch kept
    assert "| 0 | 52.40 | 51.40 | 50.40 | 2 | 68.20 |" in text
    assert "| 2 | 66.30 | 65.30 | 64.30 | 3 | 55.00 |" in text
    assert "| 1 | 64.17 | 63.17 | 62.17 | 3 | - |" in text
    assert "OA spread between seeds (max - min): 13.90 points." in text
    assert "## Per seed" not in _render("indian_pines")  # one seed: no table


def test_reports_say_band_scaling_when_there_is_no_pca():
    disjoint = _render("indian_pines", protocol="disjoint", components="all", pca=False)
    assert "band scaling (no PCA) fitted on training pixels only" in disjoint
    assert "PCA and scaling" not in disjoint
    paper = _render("indian_pines", components="all", pca=False)
    assert ("band scaling (no PCA) fitted on the whole cube (the paper applies its incremental "
            "PCA to the whole cube and names no scaling)") in paper
    with_pca = _render("indian_pines")
    assert "PCA and scaling fitted on the whole cube (the paper applies" in with_pca
    assert "as in the paper" not in paper + with_pca
    assert "random split stratified by class (the stratification is ours)" in with_pca


def test_reports_state_the_split_shares():
    standard = make_config("hsi", "standard", scene="indian_pines", protocol="disjoint")
    fake = SimpleNamespace(name="indian_pines", class_ids=(1, 2), class_names=("a", "b"))
    text = render(fake, standard, "fp32", [_per_seed(0.9)])
    assert ("(30% of each class's kept pixels test, the rest split 75%/25% into training and "
            "validation)") in text
    assert "the rest split 50%/50% into training and validation" in _render("indian_pines")
