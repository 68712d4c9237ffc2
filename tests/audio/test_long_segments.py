"""Piczak's CNN on long segments with majority voting (Chen et al.'s Table 4, row [40])."""

import json

import numpy as np
import pytest
import torch

from spectranet.audio import inference, pipeline
from spectranet.audio.features import FeatureSettings
from spectranet.audio.protocol import fold_split
from spectranet.audio.scaling import Standardizer
from spectranet.config import make_config

PER_CLASS = {1: 3, 2: 1, 3: 1}  # clips per class: fold 1 trains, 2 validates, 3 tests


@pytest.fixture(scope="module")
def long_run(tmp_path_factory, us8k_folder):
    """Two epochs of Piczak's CNN on 101-frame windows (75 % overlap), clips scored by vote."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SPECTRANET_CACHE", str(tmp_path_factory.mktemp("cache_long")))
    folder = us8k_folder(tmp_path_factory.mktemp("us8k_long"), PER_CLASS)
    config = make_config("audio", "quick", dataset=str(folder), folds=[3], jobs=1, arch="piczak",
                         filters=None, batch_norm=False, frames=101, overlap=0.75,
                         aggregate="vote", epochs=2, batch_size=16, validation="fold",
                         precision="fp32", mixup=0.0)
    out = tmp_path_factory.mktemp("runs") / "long"
    torch.set_num_threads(1)
    metrics = pipeline.train(config, out, progress=False)
    yield out, metrics, config
    mp.undo()


def test_the_cache_keys_on_the_window_length():
    assert FeatureSettings(frames=101).key() != FeatureSettings(frames=41).key()


def test_long_windows_reach_features_and_model(long_run):
    out, metrics, config = long_run
    clips, windows = pipeline.prepare(config, progress=False)
    assert windows.x.shape[1:] == (2, 64, 101)
    # a 4 s clip has 173 frames: 1 + (173 - 101) // 25 = 3 windows
    counts = np.bincount(windows.clip_ids, minlength=len(clips))
    assert counts.max() == 3 and counts.min() >= 1
    _, meta = inference.load_run_model(out)
    assert meta["model_options"] == {"dropout": 0.5, "n_mels": 64, "frames": 101}
    assert meta["features"]["frames"] == 101 and meta["aggregate"] == "vote"
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["frames"] == 101 and saved["arch"] == "piczak"
    assert metrics["folds"][0]["test_clips"] == 10


def test_clip_decision_is_the_majority_of_its_window_predictions(long_run):
    out, _, config = long_run
    clips, windows = pipeline.prepare(config, progress=False)
    model, meta = inference.load_run_model(out)
    rows = windows.windows_of(fold_split(clips.folds, 3)["test"])
    x = Standardizer.from_dict(meta["standardizer"]).transform(windows.x[rows])
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    saved = np.load(out / "fold_3" / "seed_0" / "predictions.npz")
    ids = windows.clip_ids[rows]
    assert saved["clip_ids"].tolist() == sorted(set(ids.tolist()))
    for clip, pred in zip(saved["clip_ids"], saved["clip_pred"], strict=True):
        mine = probs[ids == clip]
        votes = np.bincount(mine.argmax(1), minlength=probs.shape[1])
        tied = np.flatnonzero(votes == votes.max())
        expected = tied[np.argmax(mine.mean(0)[tied])]  # a tie goes to the higher mean
        assert pred == expected, (clip, votes, mine.mean(0))


def test_cli_runs_long_segments_with_the_ufl_baseline(long_run, tmp_path, monkeypatch):
    """``--frames``, ``--overlap``, ``--aggregate vote`` and ``--baseline ufl`` reach the run."""
    from spectranet.cli import main

    _, _, config = long_run
    monkeypatch.setenv("SPECTRANET_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "cli"
    code = main(["audio", "train", "--dataset", config.dataset, "--preset", "quick",
                 "--folds", "3", "--epochs", "1", "--arch", "piczak", "--frames", "101",
                 "--overlap", "0.75", "--aggregate", "vote", "--baseline", "ufl",
                 "--validation", "fold", "--precision", "fp32", "--no-progress",
                 "--out", str(out)])
    assert code == 0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert (saved["frames"], saved["overlap"], saved["aggregate"]) == (101, 0.75, "vote")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["baseline"]["classifier"] == "ufl"
    assert metrics["baseline"]["folds"][0]["test_clips"] == 10
    report = (out / "report.md").read_text()
    assert "## Against the unsupervised feature learning + random forest baseline" in report
    assert "spherical k-means codes of whitened log-mel patches" in report


def test_cli_refuses_a_window_too_short_for_piczak(long_run, tmp_path, capsys):
    from spectranet.cli import main

    _, _, config = long_run
    code = main(["audio", "train", "--dataset", config.dataset, "--arch", "piczak",
                 "--folds", "3", "--frames", "10", "--out", str(tmp_path / "r")])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1 and last == ("error: PiczakCNN needs n_mels >= 60 and frames >= 15, got "
                                  "n_mels=64, frames=10")
    assert not (tmp_path / "r").exists()
