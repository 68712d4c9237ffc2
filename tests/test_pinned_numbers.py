"""Pinned numbers: two short real trainings give, bit for bit, what the code gave when recorded.

A guard for refactorings of the fit loop and its callers (issue 25): the same arguments, the
same random-number consumption and the same kept epoch must give the very same floats. The
values were recorded on the 2-core development machine (avx512_bf16) with one torch thread;
another CPU, torch build or thread count may move them in the last bits.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from spectranet.config import make_config
from spectranet.engine.checkpoints import load_checkpoint

# Recorded from commit 7d5ef21 (main, before issue 25 stage 6) with torch.set_num_threads(1).
INDIAN_PINES = {
    "overall_accuracy": 0.50814332247557,
    "kappa": 0.2679048025141738,
    "best_epoch": 2,
    "history": [
        (1, 1.9022148155288048, 0.22946175637393768, 1.7117722034454346, 0.3409090909090909),
        (2, 1.7552951567571493, 0.33994334277620397, 1.6823756694793701, 0.5170454545454546),
    ],
    "weights": -90.31274344885742,
}
# Recorded from commit 5a22740 (main before the short fit was merged), one torch thread.
URBANSOUND8K = {  # quick preset, 2 epochs, fused with the forest at 0.5; bf16 here
    "clip_accuracy": 0.55,
    "window_accuracy": 0.1206896551724138,
    "cnn_accuracy": 0.1,
    "forest_accuracy": 0.55,
    "best_epoch": 2,
    "history": [(1, 2.3507442474365234, 0.08, None, None),
                (2, 2.199662923812866, 0.16, None, None)],
    "weights": 190.1460124530792,
}


@pytest.fixture
def one_thread():
    """Torch's thread count changes the numbers: one thread while the test runs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _curves(history: list[dict]) -> list[tuple]:
    """The history without its wall times."""
    return [(h["epoch"], h["train_loss"], h["train_accuracy"], h["val_loss"], h["val_accuracy"])
            for h in history]


def _weights(checkpoint: Path) -> float:
    """The kept weights as one float64 sum of every tensor, read back from the checkpoint."""
    state = load_checkpoint(checkpoint)
    assert "resume" not in state  # a finished fit keeps the best weights only
    return float(sum(v.double().sum() for v in state["model"].values()))


def indian_pines_numbers(data_root: Path, tmp_path: Path) -> dict:
    """A paper-protocol seed of Indian Pines' top-left 40 x 40 pixels (7 classes), 2 epochs."""
    folder = data_root / "hsi" / "indian_pines"
    cube = scipy.io.loadmat(folder / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    gt = scipy.io.loadmat(folder / "Indian_pines_gt.mat")["indian_pines_gt"]
    np.save(tmp_path / "cube.npy", cube[:40, :40])
    np.save(tmp_path / "gt.npy", gt[:40, :40])
    config = make_config("hsi", "paper", cube=str(tmp_path / "cube.npy"),
                         gt=str(tmp_path / "gt.npy"), epochs=2, seeds=[0], precision="fp32")
    from spectranet.hsi import pipeline

    out = tmp_path / "ip"
    metrics = pipeline.train(config, out, progress=False)
    return {"overall_accuracy": metrics["overall_accuracy"], "kappa": metrics["kappa"],
            "best_epoch": metrics["best_epoch"], "history": _curves(metrics["history"]),
            "weights": _weights(out / "seed_0" / "checkpoint.pt")}


def urbansound8k_numbers(us8k_folder, tmp_path: Path, monkeypatch) -> dict:
    """The quick preset on 70 real UrbanSound8K clips (folds 1 and 2 train, fold 3 tests),
    2 epochs, fused at weight 0.5 with the MFCC random forest; its own feature cache."""
    from spectranet.audio import pipeline

    monkeypatch.setenv("SPECTRANET_CACHE", str(tmp_path / "cache"))
    folder = us8k_folder(tmp_path / "clips", {1: 3, 2: 2, 3: 2})
    config = make_config("audio", "quick", dataset=str(folder), folds=[3], epochs=2, jobs=1,
                         validation="none", baseline="rf", baseline_weight=0.5)
    out = tmp_path / "us8k"
    metrics = pipeline.train(config, out, progress=False)
    unit = out / "fold_3" / "seed_0"
    history = json.loads((unit / "metrics.json").read_text())["history"]
    fusion = metrics["rounds"][0]["fusion"]
    return {"clip_accuracy": metrics["clip_accuracy"],
            "window_accuracy": metrics["window_accuracy"],
            "cnn_accuracy": fusion["test_accuracy_cnn"],
            "forest_accuracy": fusion["test_accuracy_baseline"],
            "best_epoch": metrics["rounds"][0]["best_epoch"], "history": _curves(history),
            "weights": _weights(unit / "checkpoint.pt")}


def test_indian_pines_paper_seed_is_pinned(data_root, tmp_path, one_thread):
    assert indian_pines_numbers(data_root, tmp_path) == INDIAN_PINES


def test_urbansound8k_fold_is_pinned(us8k_folder, tmp_path, monkeypatch, one_thread):
    assert urbansound8k_numbers(us8k_folder, tmp_path, monkeypatch) == URBANSOUND8K
