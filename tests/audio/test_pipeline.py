"""The sound pipeline end to end on real UrbanSound8K clips: cross-validation, predict, errors."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from spectranet.audio import inference, pipeline
from spectranet.cli import main
from spectranet.config import make_config

PER_CLASS = {1: 14, 2: 4, 3: 4}  # clips per class in each fold: fold 1 trains, 2 validates, 3 tests


@pytest.fixture(scope="module")
def subset(tmp_path_factory, us8k_folder) -> Path:
    """A user folder (audio files + labels.csv) holding real clips of folds 1, 2 and 3."""
    return us8k_folder(tmp_path_factory.mktemp("us8k_small"), PER_CLASS, listed_suffix=".wav")


def _trained(tmp_path_factory, name, preset, **options):
    """Train a run folder with its own feature cache; yield (folder, metrics, config)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SPECTRANET_CACHE", str(tmp_path_factory.mktemp(f"cache_{name}")))
    out = tmp_path_factory.mktemp("runs") / name
    config = make_config("audio", preset, folds=[3], jobs=1, **options)
    metrics = pipeline.train(config, out, progress=False)
    yield out, metrics, config
    mp.undo()


@pytest.fixture(scope="module")
def run(subset, tmp_path_factory):
    yield from _trained(tmp_path_factory, "audio", "quick", dataset=str(subset), epochs=6,
                        filters=[16, 16, 32, 32], batch_size=32, sampling="windows", mixup=0.0,
                        validation="fold")


def test_short_training_well_above_chance(run):
    _, metrics, _ = run
    assert metrics["clip_accuracy"] > 0.25  # 10 classes: chance is 0.10
    assert metrics["warnings"] == []  # every class trains; 40 validation clips
    assert [f["fold"] for f in metrics["folds"]] == [3]
    assert 0 <= metrics["window_accuracy"] <= 1
    assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["folds"][0]["test_clips"]


def test_fold_sets_and_files(run, subset):
    out, _, _ = run
    split = json.loads((out / "fold_3" / "seed_0" / "split.json").read_text())
    sets = [set(split[k]) for k in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    names = split["clip_names"]
    with open(subset / "labels.csv") as fh:
        fold_of = {r["file"]: int(r["fold"]) for r in csv.DictReader(fh)}
    assert {fold_of[names[i]] for i in sets[0]} == {1}
    assert {fold_of[names[i]] for i in sets[1]} == {2}  # the previous fold, not the test fold
    assert {fold_of[names[i]] for i in sets[2]} == {3}
    for name in ("config.json", "metrics.json", "report.md", "figures/fold_accuracy.png",
                 "figures/examples.png", "figures/confusion_matrix.png",
                 "fold_3/seed_0/checkpoint.pt", "fold_3/seed_0/figures/curves.png"):
        assert (out / name).is_file(), name


def test_second_run_hits_feature_cache(run, subset):
    _, _, config = run
    summary = pipeline.features(config, progress=False)
    assert summary["cache_hits"] == summary["clips"] > 0


def test_evaluate_reproduces_metrics(run):
    out, metrics, _ = run
    again = pipeline.evaluate(out, progress=False)
    assert again["clip_accuracy"] == pytest.approx(metrics["clip_accuracy"])


def _long_clip(subset: Path) -> Path:
    """The first clip of the subset lasting over 2 s: several windows."""
    return next(c for c in sorted(subset.glob("*.flac")) if sf.info(c).duration > 2.0)


def test_predict_real_clip_with_timeline(run, subset, tmp_path):
    out, _, _ = run
    clip = _long_clip(subset)
    rows = inference.predict(out, [clip], out=tmp_path / "pred")
    row = rows[0]
    names = json.loads((out / "config.json").read_text())["classes"]
    assert row["label"] in names and row["label"] == row["top3"][0][0]
    probs = [p for _, p in row["top3"]]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert (tmp_path / "pred" / "predictions.csv").is_file()
    assert row["windows"] > 1
    assert (tmp_path / "pred" / f"{clip.stem}_timeline.csv").is_file()
    starts = [w["start"] for w in row["timeline"]]
    assert np.allclose(np.diff(starts), 20 * 512 / 22050)  # 50 % overlap of 41 frames
    # segments: consecutive windows of one top class, covering the whole timeline
    segments = row["segments"]
    assert segments[0]["start"] == 0.0 and segments[-1]["end"] == row["timeline"][-1]["end"]
    assert [s["label"] for s in segments] == [
        w["label"] for i, w in enumerate(row["timeline"])
        if i == 0 or w["label"] != row["timeline"][i - 1]["label"]]


def test_predict_two_files_with_one_stem_writes_two_outputs(run, subset, tmp_path):
    out, _, _ = run
    clip = _long_clip(subset)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / clip.name).symlink_to(clip)
    inference.predict(out, [tmp_path / "a" / clip.name, tmp_path / "b" / clip.name],
                      out=tmp_path / "pred", progress=False)
    assert (tmp_path / "pred" / f"{clip.stem}_timeline.csv").is_file()
    assert (tmp_path / "pred" / f"{clip.stem}_2_timeline.csv").is_file()


def test_cli_predict_bad_files(run, tmp_path, capsys):
    out, _, _ = run
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(b"not audio at all" * 10)
    for name, message in (("missing.wav", "not found"), ("empty.wav", "empty"),
                          ("junk.wav", "cannot decode")):
        code = main(["audio", "predict", str(out), str(tmp_path / name),
                     "--out", str(tmp_path / "p")])
        err = capsys.readouterr().err.strip()
        assert code == 1 and name in err and message in err and "\n" not in err
    assert not (tmp_path / "p").exists()


def test_cli_bad_fold_and_spec(subset, tmp_path, capsys):
    code = main(["audio", "train", "--dataset", str(subset), "--folds", "7",
                 "--out", str(tmp_path / "r")])
    assert code == 1 and "folds" in capsys.readouterr().err
    code = main(["audio", "train", "--dataset", str(subset), "--arch", "Cov1 + Covv2",
                 "--out", str(tmp_path / "r")])
    assert code == 1 and "Covv2" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def standard_run(subset, tmp_path_factory):
    yield from _trained(tmp_path_factory, "standard", "standard", dataset=str(subset), epochs=3,
                        filters=[8, 8, 16, 16])


def test_standard_run_reports_the_baseline_on_the_same_folds(standard_run, subset, tmp_path):
    from spectranet.audio import baseline

    out, metrics, config = standard_run
    assert config.baseline == "rf" and config.sampling == "clips" and config.validation == "none"
    base = metrics["baseline"]
    assert [f["fold"] for f in base["folds"]] == [f["fold"] for f in metrics["folds"]] == [3]
    assert base["folds"][0]["test_clips"] == metrics["folds"][0]["test_clips"] == 40
    alone = baseline.train(baseline.BaselineConfig(dataset=str(subset), classifier="rf", folds=[3],
                                                   validation=False), tmp_path / "rf")
    assert base["clip_accuracy"] == alone["clip_accuracy"]  # the same baseline, seed and folds
    report = (out / "report.md").read_text()
    assert "## Against the MFCC + random forest baseline" in report
    assert f"| 3 | {100 * metrics['clip_accuracy']:.2f} | {100 * base['clip_accuracy']:.2f} |" \
        in report
    assert "one random window per training clip" in report and "Macro-F1" in report
    assert "chosen on validation clips only, in each round a grouped share" in report
    assert json.loads((out / "metrics.json").read_text())["baseline"] == base


def test_standard_run_trains_one_window_per_clip_and_reuses_its_baseline(
        standard_run, monkeypatch):
    out, metrics, config = standard_run
    rnd = json.loads((out / "fold_3" / "seed_0" / "metrics.json").read_text())
    # no validation fold: folds 1 (14 clips per class) and 2 (4 per class) train, 10 classes
    assert rnd["train_samples_per_epoch"] == 180
    assert rnd["train_windows"] > 180  # clips have several windows, one drawn per epoch
    assert rnd["val_accuracy"] is None and rnd["best_epoch"] == rnd["epochs"] == 3
    monkeypatch.setattr(pipeline, "cross_validate", lambda *a, **k: pytest.fail("recomputed"))
    assert pipeline.train(config, out, progress=False)["baseline"] == metrics["baseline"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cli_predict_on_cuda_without_a_gpu_writes_nothing(run, subset, tmp_path, capsys):
    out, _, _ = run
    clip = sorted(subset.glob("*.flac"))[0]
    code = main(["audio", "predict", str(out), str(clip), "--device", "cuda",
                 "--out", str(tmp_path / "p")])
    assert code == 1 and "error: device 'cuda' is not available" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cli_device_cuda_without_a_gpu_writes_nothing(subset, tmp_path, capsys):
    code = main(["audio", "train", "--dataset", str(subset), "--device", "cuda",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "error: device 'cuda' is not available" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; this machine has none")
def test_standard_recipe_trains_on_cuda(subset, tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRANET_CACHE", str(tmp_path / "cache"))
    config = make_config("audio", "standard", dataset=str(subset), folds=[3], epochs=2,
                         device="cuda", baseline="none", jobs=1)
    metrics = pipeline.train(config, tmp_path / "run", progress=False)
    assert metrics["clip_accuracy"] > 0.1  # 10 classes: above chance after 2 epochs
    again = pipeline.evaluate(tmp_path / "run", progress=False)  # loads the GPU checkpoint
    assert again["clip_accuracy"] == pytest.approx(metrics["clip_accuracy"])


def test_steps_set_the_epochs_from_the_clips_per_epoch(subset, tmp_path_factory):
    # one random window per clip: folds 1 and 2 train 180 clips, ceil(180 / 64) = 3 batches an
    # epoch, so 7 steps need ceil(7 / 3) = 3 epochs (9 steps)
    out, metrics, config = next(_trained(tmp_path_factory, "steps", "quick", dataset=str(subset),
                                         steps=7, filters=[8, 8, 16, 16]))
    rnd = json.loads((out / "fold_3" / "seed_0" / "metrics.json").read_text())
    assert (config.steps, rnd["train_samples_per_epoch"]) == (7, 180)
    assert (rnd["epochs"], rnd["steps"], len(rnd["history"])) == (3, 9, 3)
    assert "batch 64, 7 optimisation steps (3 epochs)" in (out / "report.md").read_text()
