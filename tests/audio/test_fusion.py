"""Late fusion of the CNN with the MFCC random forest (``baseline_weight``), and the grouped
validation of a real run that chooses its epoch and weight."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from spectranet.audio import inference, pipeline
from spectranet.audio.fusion import BaselineMix, choose_weight, mix_proba
from spectranet.cli import main
from spectranet.config import make_config
from spectranet.errors import ConfigError

# three validation clips, hand-checked: the CNN is right on clip 0 only, the forest on 1 and 2
CNN = np.array([[0.9, 0.1], [0.65, 0.35], [0.55, 0.45]])
FOREST = np.array([[0.2, 0.8], [0.1, 0.9], [0.25, 0.75]])
LABELS = np.array([0, 1, 1])


def test_mix_is_the_stated_formula_by_hand():
    cnn = np.array([[0.6, 0.4], [0.2, 0.8]])
    forest = np.array([[0.1, 0.9], [0.7, 0.3]])
    # 0.7 * 0.6 + 0.3 * 0.1 = 0.45, 0.7 * 0.4 + 0.3 * 0.9 = 0.55, and so on
    assert np.allclose(mix_proba(cnn, forest, 0.3), [[0.45, 0.55], [0.35, 0.65]])
    assert np.array_equal(mix_proba(cnn, forest, 0), cnn)
    assert np.array_equal(mix_proba(cnn, forest, 1), forest)


def test_auto_picks_the_weight_a_hand_computation_picks():
    # clip 0 stays right while 0.9 - 0.7 w > 0.5 (w < 0.571); clip 1 turns right when
    # 0.35 + 0.55 w > 0.5 (w > 0.273); clip 2 when 0.45 + 0.3 w > 0.5 (w > 0.167):
    # all three right at 0.3, 0.4 and 0.5; the tie goes to the smaller weight
    weight, tried = choose_weight(CNN, FOREST, LABELS)
    assert weight == 0.3
    third = 1 / 3
    assert tried == pytest.approx({"0": third, "0.1": third, "0.2": 2 * third, "0.3": 1.0,
                                   "0.4": 1.0, "0.5": 1.0, "0.6": 2 * third, "0.7": 2 * third,
                                   "0.8": 2 * third, "0.9": 2 * third, "1": 2 * third})


def test_bad_weights_refused_with_the_option_named():
    with pytest.raises(ConfigError, match=r"^baseline_weight must be a number in \[0, 1\], "
                                          r"got 1.5$"):
        mix_proba(CNN, FOREST, 1.5)
    for value, message in (
            (1.5, r"^baseline_weight must be a number in \[0, 1\] or 'auto', got 1.5$"),
            ("half", r"^baseline_weight must be a number in \[0, 1\] or 'auto', got 'half'$"),
            (float("nan"), r"^baseline_weight must be a number in \[0, 1\] or 'auto', got nan$")):
        with pytest.raises(ConfigError, match=message):
            make_config("audio", "standard", baseline_weight=value)
    with pytest.raises(ConfigError, match=r"^baseline_weight 0.5 mixes in the MFCC random "
                                          r"forest's probabilities: set baseline to 'rf', got "
                                          r"'svm'$"):
        make_config("audio", "standard", baseline="svm", baseline_weight=0.5)
    with pytest.raises(ConfigError, match=r"^baseline_weight 'auto' is chosen on grouped "
                                          r"validation clips: set validation to 'group', got "
                                          r"'none'$"):
        make_config("audio", "standard", baseline_weight="auto")
    with pytest.raises(ConfigError, match=r"^val_share must be a number in \(0, 0.5\], "
                                          r"got 0.7$"):
        make_config("audio", "standard", val_share=0.7)


def test_forest_is_stored_as_arrays_and_refitted_to_the_same_model(tmp_path, rng):
    x = rng.normal(size=(60, 5))
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 1)  # classes 0, 1, 2, 3 (3 rare)
    mix = BaselineMix.fit(x, y, seed=4)
    mix.save(tmp_path / "mix.npz")
    with np.load(tmp_path / "mix.npz", allow_pickle=False) as saved:  # plain arrays only
        assert sorted(saved.files) == ["features", "labels", "seed"]
    again = BaselineMix.load(tmp_path / "mix.npz")
    probe = rng.normal(size=(7, 5))
    assert np.array_equal(mix.proba(probe, 5), again.proba(probe, 5))
    assert np.all(mix.proba(probe, 5)[:, 4] == 0)  # a class never trained on
    assert np.allclose(mix.proba(probe, 5).sum(1), 1)


# -- a real run: grouped validation chooses the epoch and the weight ---------------------------

RECORDINGS = {1: 3, 2: 3, 3: 2}  # recordings per class and fold, up to 2 clips each


@pytest.fixture(scope="module")
def grouped_folder(tmp_path_factory, data_root) -> Path:
    """Real UrbanSound8K clips as a user folder whose CSV has a ``group`` column (the fsID)."""
    src = data_root / "audio" / "urbansound8k_subset"
    folder = tmp_path_factory.mktemp("us8k_grouped")
    taken: dict[tuple, list] = {}
    rows = []
    with open(src / "metadata" / "UrbanSound8K.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            fold = int(row["fold"])
            ids = taken.setdefault((fold, row["class"]), [])
            new = row["fsID"] not in ids
            if (fold not in RECORDINGS or (new and len(ids) >= RECORDINGS[fold])
                    or sum(r["group"] == row["fsID"] for r in rows) >= 2):
                continue
            if new:
                ids.append(row["fsID"])
            stem = Path(row["slice_file_name"]).stem
            (folder / f"{stem}.flac").symlink_to(src / "audio" / f"fold{fold}" / f"{stem}.flac")
            rows.append({"file": f"{stem}.flac", "label": row["class"], "fold": fold,
                         "group": row["fsID"]})
    with open(folder / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["file", "label", "fold", "group"])
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def fused_run(grouped_folder, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SPECTRANET_CACHE", str(tmp_path_factory.mktemp("cache_fusion")))
    out = tmp_path_factory.mktemp("runs") / "fused"
    config = make_config("audio", "quick", dataset=str(grouped_folder), folds=[3], jobs=1,
                         epochs=3, filters=[8, 8, 16, 16], validation="group", val_share=0.25,
                         val_windows="all", baseline="rf", baseline_weight="auto", seeds=[1])
    metrics = pipeline.train(config, out, progress=False)
    yield out, metrics, config
    mp.undo()


def test_validation_clips_come_from_training_folds_by_recording(fused_run, grouped_folder):
    out, metrics, _ = fused_run
    split = json.loads((out / "fold_3" / "seed_1" / "split.json").read_text())
    with open(grouped_folder / "labels.csv") as fh:
        table = {r["file"]: r for r in csv.DictReader(fh)}
    rows = [table[name] for name in split["clip_names"]]
    val, train, test = (set(split[k]) for k in ("val", "train", "test"))
    assert val and not (val & train or val & test or train & test)
    assert {rows[i]["fold"] for i in val} <= {"1", "2"}  # never the test fold 3
    assert not {rows[i]["group"] for i in val} & {rows[i]["group"] for i in train}
    assert [rows[i]["group"] for i in range(len(rows))] == split["clip_groups"]
    info = metrics["rounds"][0]["validation"]
    assert info == {"rule": "group", "folds": sorted({int(rows[i]["fold"]) for i in val}),
                    "clips": len(val), "recordings": len({rows[i]["group"] for i in val}),
                    "share": pytest.approx(len(val) / (len(val) + len(train)))}
    report = (out / "report.md").read_text()
    assert "## Validation clips of each round" in report
    assert f"| 3 | 1 | group | {', '.join(map(str, info['folds']))} | {len(val)} |" in report


def test_kept_epoch_follows_the_validation_curve(fused_run):
    out, _, _ = fused_run
    saved = json.loads((out / "fold_3" / "seed_1" / "metrics.json").read_text())
    curve = [h["val_accuracy"] for h in saved["history"]]
    assert len(curve) == 3 and all(v is not None for v in curve)
    assert saved["best_epoch"] == 1 + int(np.argmax(curve))  # first best epoch is kept
    assert saved["val_accuracy"] == max(curve)


def test_fused_accuracy_is_the_mix_of_the_saved_probabilities(fused_run):
    out, metrics, _ = fused_run
    fusion = metrics["rounds"][0]["fusion"]
    saved = np.load(out / "fold_3" / "seed_1" / "predictions.npz")
    mixed = mix_proba(saved["cnn_probs"], saved["baseline_probs"], fusion["weight"])
    assert np.array_equal(mixed.argmax(1), saved["clip_pred"])
    truth = saved["clip_true"]
    assert metrics["clip_accuracy"] == pytest.approx(np.mean(mixed.argmax(1) == truth))
    assert fusion["test_accuracy_mixed"] == pytest.approx(metrics["clip_accuracy"])
    assert fusion["test_accuracy_cnn"] == pytest.approx(
        np.mean(saved["cnn_probs"].argmax(1) == truth))
    assert fusion["test_accuracy_baseline"] == pytest.approx(
        np.mean(saved["baseline_probs"].argmax(1) == truth))
    # "auto": the weight is the smallest of those with the best validation accuracy
    tried = fusion["weights_tried"]
    assert fusion["rule"] == "auto" and len(tried) == 11
    best = max(tried.values())
    assert f"{fusion['weight']:g}" == next(w for w, acc in tried.items() if acc == best)
    assert fusion["val_accuracy_mixed"] == best
    report = (out / "report.md").read_text()
    assert "## Late fusion with the MFCC random forest" in report
    assert f"| 3 | 1 | {fusion['weight']:g} | auto |" in report
    assert "| test fold | fusion (%) | baseline (%) | fusion - baseline (points) |" in report


def test_forest_trained_on_the_rounds_training_clips_only(fused_run, grouped_folder):
    out, _, _ = fused_run
    split = json.loads((out / "fold_3" / "seed_1" / "split.json").read_text())
    predictor = inference.load_run_predictor(out)  # the checkpoint holds the forest
    labels, seed = predictor.forest.labels, predictor.forest.seed
    assert predictor.forest.features.shape == (len(split["train"]), 275)
    assert predictor.forest_weight == metrics_weight(out)
    assert not (out / "fold_3" / "seed_1" / "baseline_mix.npz").exists()
    from spectranet.audio.datasets import load_clips

    clips = load_clips(grouped_folder)
    assert np.array_equal(labels, clips.labels[split["train"]]) and seed == 1


def metrics_weight(out: Path) -> float:
    """The weight the round chose, as its ``metrics.json`` records it."""
    return json.loads((out / "fold_3" / "seed_1" / "metrics.json").read_text())["fusion"]["weight"]


def test_evaluate_reproduces_the_fused_metrics(fused_run):
    out, metrics, _ = fused_run
    again = pipeline.evaluate(out, progress=False)
    assert again["clip_accuracy"] == metrics["clip_accuracy"]
    assert again["confusion_matrix"] == metrics["confusion_matrix"]
    assert again["window_accuracy"] == pytest.approx(metrics["window_accuracy"])


def test_cli_refuses_bad_weights_before_writing(grouped_folder, tmp_path, capsys):
    code = main(["audio", "train", "--dataset", str(grouped_folder), "--baseline-weight",
                 "heavy", "--out", str(tmp_path / "r")])
    assert code == 2 and "expected a number in [0, 1] or auto, got 'heavy'" in \
        capsys.readouterr().err
    code = main(["audio", "train", "--dataset", str(grouped_folder), "--preset", "standard",
                 "--baseline-weight", "auto", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err == ("error: baseline_weight 'auto' is chosen on grouped "
                                 "validation clips: set validation to 'group', got 'none'")
    assert not (tmp_path / "r").exists()


def test_keep_last_monitors_validation_and_keeps_the_last_epoch(grouped_folder, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("SPECTRANET_CACHE", str(tmp_path / "cache"))
    config = make_config("audio", "quick", dataset=str(grouped_folder), folds=[3], jobs=1,
                         epochs=3, filters=[8, 8, 16, 16], validation="group", val_share=0.25,
                         keep="last", baseline="rf", baseline_weight="auto", seeds=[1])
    pipeline.train(config, tmp_path / "run", progress=False)
    saved = json.loads((tmp_path / "run" / "fold_3" / "seed_1" / "metrics.json").read_text())
    # this tiny model's curve is level, so "best" would keep the first epoch (a tie never
    # improves); "last" keeps the third
    assert saved["best_epoch"] == 3 and len(saved["history"]) == 3
    assert saved["val_accuracy"] == saved["history"][-1]["val_accuracy"]
    with pytest.raises(ConfigError, match=r"^keep must be one of 'best', 'last', got 'first'$"):
        make_config("audio", "standard", keep="first")


def test_fixed_weight_without_validation_fits_the_forest_on_every_training_clip(
        grouped_folder, tmp_path, monkeypatch):
    """The ``standard`` preset's path: no clip held out, the forest at weight 0.5, two seeds."""
    monkeypatch.setenv("SPECTRANET_CACHE", str(tmp_path / "cache"))
    config = make_config("audio", "standard", dataset=str(grouped_folder), folds=[3], jobs=1,
                         steps=4, filters=[8, 8, 16, 16], seeds=[0, 1])
    assert (config.validation, config.baseline_weight) == ("none", 0.5)
    metrics = pipeline.train(config, tmp_path / "run", progress=False)
    for seed, rnd in zip((0, 1), metrics["rounds"], strict=True):
        split = json.loads((tmp_path / "run" / "fold_3" / f"seed_{seed}" / "split.json")
                           .read_text())
        assert split["val"] == [] and rnd["fusion"]["rule"] == "fixed"
        assert rnd["fusion"]["weight"] == 0.5 and rnd["fusion"]["weights_tried"] is None
        assert rnd["fusion"]["train_clips"] == len(split["train"])  # every non-test clip
        assert sorted(split["train"] + split["test"]) == list(range(len(split["clip_names"])))
        saved = np.load(tmp_path / "run" / "fold_3" / f"seed_{seed}" / "predictions.npz")
        mixed = 0.5 * saved["cnn_probs"] + 0.5 * saved["baseline_probs"]
        assert np.array_equal(mixed.argmax(1), saved["clip_pred"])
    report = (tmp_path / "run" / "report.md").read_text()
    assert "## Seeds, and the fusion against its members" in report
    assert "| fusion > MFCC + random forest |" in report


def test_seeds_section_by_hand():
    from spectranet.audio.report import _seeds_section

    def rnd(fold, seed, cnn, forest, mixed):
        return {"fold": fold, "seed": seed, "fusion": {
            "test_accuracy_cnn": cnn, "test_accuracy_baseline": forest,
            "test_accuracy_mixed": mixed}}

    rounds = [rnd(1, 0, .60, .62, .66), rnd(1, 1, .62, .60, .68),
              rnd(2, 0, .50, .55, .58), rnd(2, 1, .54, .55, .60)]
    text = "\n".join(_seeds_section({"rounds": rounds}))
    # fold 1: CNN (60 + 62) / 2 = 61 ± 1 (population std); forest 61 ± 1; fusion 67 ± 1
    assert "| 1 | 2 | 61.00 ± 1.00 | 61.00 ± 1.00 | 67.00 ± 1.00 |" in text
    assert "| 2 | 2 | 52.00 ± 2.00 | 55.00 ± 0.00 | 59.00 ± 1.00 |" in text
    # over folds: fusion (67 + 59) / 2 = 63 ± 4
    assert "**63.00 ± 4.00**" in text
    # fusion - forest per seed: fold 1 +4 and +8, fold 2 +3 and +5
    assert "| 1 | +4.00 | +8.00 |" in text and "| 2 | +3.00 | +5.00 |" in text
    assert "The fusion is above the forest on 4 of 4 rounds" in text
    # paired by fold: fusion - forest = +6 and +4, mean 5, std 1.41, t(0.975, 1) = 12.706:
    # 5 ± 12.71; fusion - CNN = +6 and +7: 6.5 ± 12.706 x 0.707 / 1.414 = 6.5 ± 6.35
    assert ("| fusion > MFCC + random forest | 1: +6.00, 2: +4.00 | +5.00 ± 1.41 | "
            "[-7.71, +17.71] | 2/2 | not distinguishable with 2 folds |") in text
    assert "| fusion > CNN alone | 1: +6.00, 2: +7.00 | +6.50 ± 0.71 | [+0.15, +12.85] | 2/2 | " \
        "holds |" in text
