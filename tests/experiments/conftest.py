"""Fake train functions for experiment grids: canned metrics with the real keys, no training."""

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from spectranet.audio.pipeline import summarise
from spectranet.engine.runs import atomic_write_json, save_figure
from spectranet.experiments import ahmad2020, chen2019, grid

FOLDS = (1, 2, 3, 10)


def _audio_metrics(base: float, n_classes: int = 10) -> dict:
    """The sound pipeline's metrics.json, built by its own ``summarise`` from fake rounds."""
    rng = np.random.default_rng(int(base * 1000))
    rounds = []
    for i, fold in enumerate(FOLDS):
        true = rng.integers(0, n_classes, 40)
        pred = np.where(rng.random(40) < base + 0.01 * i, true, (true + 1) % n_classes)
        rounds.append({"fold": fold, "seed": 0, "clip_accuracy": float(np.mean(true == pred)),
                       "window_accuracy": base - 0.05, "test_clips": 40, "clip_true": true,
                       "clip_pred": pred, "train_seconds": 30.0})
    return summarise(rounds, n_classes)


def _record(folder, domain, config, root, **extra):
    """config.json as the pipelines write it: the data fingerprint the grid checks."""
    atomic_write_json(Path(folder) / "config.json", {
        "domain": domain, "data_fingerprint": grid.data_fingerprint(domain, config, root),
        **extra})


def _fake_audio(config, folder, root):
    base = 0.7 if "Dila" in config.arch else 0.6
    metrics = _audio_metrics(base + 0.02 * config.arch.count("Cov"))
    _record(folder, "audio", config, root)
    atomic_write_json(Path(folder) / "metrics.json", metrics)
    return metrics


def _fake_mfcc(config, folder, root):
    metrics = _audio_metrics(0.5 if config.classifier == "svm" else 0.55)
    metrics.pop("window_accuracy")
    _record(folder, "mfcc", config, root)
    atomic_write_json(Path(folder) / "metrics.json", metrics)
    return metrics


def _fake_hsi(config, folder, root):
    folder = Path(folder)
    oa = 0.95 - 0.01 * (config.window - 11) - (0.1 if config.protocol == "disjoint" else 0)
    oa -= 0.0 if config.model == "fast3dcnn" else 0.05
    for name in ("curves", "map"):
        fig = Figure(figsize=(1, 1))
        fig.subplots().plot([0, 1])
        save_figure(fig, folder / "seed_0" / "figures" / f"{name}.png", dpi=20)
    per_seed = [{"overall_accuracy": oa + 0.01 * seed, "average_accuracy": oa - 0.05,
                 "kappa": oa - 0.03, "per_class_accuracy": [oa] * 16,
                 "confusion_matrix": np.eye(16).tolist(), "seed": seed,
                 "train_seconds": 2.0 * config.window, "test_seconds": 0.5, "map_seconds": 1.0,
                 "best_epoch": 3, "epochs": config.epochs,
                 "parameters": 1000 * config.window ** 2, "history": []}
                for seed in config.seeds]
    metrics = dict(per_seed[0])
    if len(per_seed) > 1:  # as the pipeline's summary: the mean, the std and every seed
        metrics["overall_accuracy"] = float(np.mean([m["overall_accuracy"] for m in per_seed]))
        metrics["std"] = {"overall_accuracy": float(np.std([m["overall_accuracy"]
                                                            for m in per_seed]))}
        metrics["seeds"] = per_seed
    _record(folder, "hsi", config, root, environment={"threads": 3})
    atomic_write_json(folder / "metrics.json", metrics)
    return metrics


@pytest.fixture
def fake_runners(monkeypatch):
    monkeypatch.setitem(grid.RUNNERS, "audio", _fake_audio)
    monkeypatch.setitem(grid.RUNNERS, "mfcc", _fake_mfcc)
    monkeypatch.setitem(grid.RUNNERS, "hsi", _fake_hsi)
    monkeypatch.setattr(chen2019, "prepare", lambda runs, out, root: None)
    monkeypatch.setattr(ahmad2020, "available_scenes", lambda root=None: (
        ["indian_pines"], [("salinas", "Salinas_corrected.mat is missing")]))
