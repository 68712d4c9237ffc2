"""MFCC summary statistics + SVM / random forest, on the CNNs' fold protocol."""

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf

from spectranet.audio.baseline import BaselineConfig, mfcc_baseline, mfcc_features, train
from spectranet.audio.datasets import ClipTable, load_clips
from spectranet.errors import ConfigError

SR = 22050


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Three separable classes (low tone, high tone, noise) in three folds, as WAV + labels.csv."""
    folder = tmp_path_factory.mktemp("sounds")
    rng = np.random.default_rng(0)
    t = np.arange(int(0.5 * SR)) / SR
    rows = ["file,label,fold"]
    for fold in (1, 2, 3):
        for label, kind in enumerate(("low", "high", "noise")):
            for i in range(5):
                if kind == "noise":
                    y = rng.normal(0, 0.3, t.size)
                else:
                    f0 = (300 if kind == "low" else 3000) * rng.uniform(0.9, 1.1)
                    y = rng.uniform(0.3, 0.8) * np.sin(2 * np.pi * f0 * t)
                    y = y + rng.normal(0, 0.01, t.size)
                name = f"{kind}_{fold}_{i}.wav"
                sf.write(folder / name, y.astype(np.float32), SR)
                rows.append(f"{name},{label},{fold}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.mark.parametrize("classifier", ["svm", "rf"])
def test_separable_synthetic_data_well_above_chance(synthetic, classifier):
    clips = load_clips(synthetic)
    result = mfcc_baseline(clips, test_fold=2, classifier=classifier, seed=0)
    assert result["clip_accuracy"] > 0.9  # chance is 1/3
    assert result["fold"] == 2 and result["test_clips"] == 15
    assert result["train_clips"] == 15 and result["val_clips"] == 15  # train 3, validation 1


def test_train_writes_run_folder_with_the_sound_pipelines_keys(synthetic, tmp_path):
    config = BaselineConfig(dataset=str(synthetic), classifier="svm")
    metrics = train(config, tmp_path / "run")
    assert {"clip_accuracy", "folds", "mean", "std", "per_class_accuracy",
            "confusion_matrix", "train_seconds"} <= set(metrics)
    assert [f["fold"] for f in metrics["folds"]] == [1, 2, 3]
    assert metrics["clip_accuracy"] > 0.9 and metrics["n_features"] == 275
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["clip_accuracy"] == pytest.approx(metrics["clip_accuracy"])
    assert (tmp_path / "run" / "fold_3" / "metrics.json").is_file()
    with pytest.raises(ConfigError, match="another configuration"):
        train(dataclasses.replace(config, classifier="rf"), tmp_path / "run")


def test_short_and_silent_clips_give_finite_features(tmp_path):
    sf.write(tmp_path / "short.wav", np.full(400, 0.1, np.float32), SR)  # 18 ms
    sf.write(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR)
    (tmp_path / "labels.csv").write_text("file,label\nshort.wav,a\nsilent.wav,b\n")
    x = mfcc_features(load_clips(tmp_path))
    assert x.shape == (2, 275) and np.isfinite(x).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"classifier": "knn"}, "classifier must be one of"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"n_mfcc": 50}, "n_mels must be >= n_mfcc"),
])
def test_invalid_configuration(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        BaselineConfig(**kwargs)


def test_invalid_fold_and_classifier(synthetic):
    clips = load_clips(synthetic)
    with pytest.raises(ConfigError, match="test_fold must be one of"):
        mfcc_baseline(clips, test_fold=7)
    with pytest.raises(ConfigError, match="classifier must be one of"):
        mfcc_baseline(clips, test_fold=1, classifier="knn")  # type: ignore[arg-type]


def test_real_clips_of_three_folds(data_root):
    full = load_clips("urbansound8k", root=data_root, folds=[1, 2, 3])
    chosen = []
    for fold in (1, 2, 3):  # 5 clips of distinct classes per fold
        seen: set[int] = set()
        for r in full.records:
            if r.fold == fold and r.label not in seen and len(seen) < 5:
                seen.add(r.label)
                chosen.append(r)
    records = tuple(dataclasses.replace(r, clip_id=i) for i, r in enumerate(chosen))
    clips = ClipTable(records, full.class_names, full.class_ids, full.source)
    x = mfcc_features(clips)
    assert x.shape == (15, 275) and np.isfinite(x).all()
    result = mfcc_baseline(clips, test_fold=1, classifier="svm", seed=0, features=x)
    split = {k: set(v) for k, v in result["split"].items()}
    assert not (split["train"] & split["val"] or split["train"] & split["test"]
                or split["val"] & split["test"])
    folds = clips.folds
    assert {int(folds[i]) for i in split["test"]} == {1}
    assert {int(folds[i]) for i in split["val"]} == {3}  # the previous fold present, cyclically
    assert {int(folds[i]) for i in split["train"]} == {2}
    assert result["clip_pred"].shape == result["clip_true"].shape == (5,)
    assert 0 <= result["clip_accuracy"] <= 1
    assert set(result["chosen"]) == {"C"}
