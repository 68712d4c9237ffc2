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
URBANSOUND8K = {  # the quick preset: no validation, mixup, one-cycle schedule, bf16 here
    "clip_accuracy": 0.32849364791288566,
    "window_accuracy": 0.3170212765957447,
    "best_epoch": 2,
    "history": [
        (1, 2.156809036396752, 0.17355371900826447, None, None),
        (2, 2.0704470055162414, 0.16804407713498623, None, None),
    ],
    "weights": 341.6328973326782,
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


def urbansound8k_numbers(data_root: Path, tmp_path: Path) -> dict:
    """The quick preset on test fold 1 of the real UrbanSound8K subset, 2 epochs.

    The features come from the usual cache (``$SPECTRANET_CACHE``): seconds when it holds the
    subset's, minutes to fill it otherwise.
    """
    config = make_config("audio", "quick", folds=[1], epochs=2, jobs=1)
    from spectranet.audio import pipeline

    out = tmp_path / "us8k"
    metrics = pipeline.train(config, out, root=data_root, progress=False)
    unit = out / "fold_1" / "seed_0"
    history = json.loads((unit / "metrics.json").read_text())["history"]
    return {"clip_accuracy": metrics["clip_accuracy"],
            "window_accuracy": metrics["window_accuracy"],
            "best_epoch": metrics["rounds"][0]["best_epoch"], "history": _curves(history),
            "weights": _weights(unit / "checkpoint.pt")}


def test_indian_pines_paper_seed_is_pinned(data_root, tmp_path, one_thread):
    assert indian_pines_numbers(data_root, tmp_path) == INDIAN_PINES


def test_urbansound8k_fold_is_pinned(data_root, tmp_path, one_thread):
    assert urbansound8k_numbers(data_root, tmp_path) == URBANSOUND8K
