"""Sound figures; each function returns a matplotlib ``Figure``.

Example clips per class (Chen et al. Fig. 7), accuracy per fold (Fig. 11), and the window
timeline of a long recording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from spectranet.audio.datasets import ClipTable
from spectranet.audio.decoding import load_audio
from spectranet.audio.features import FeatureSettings, log_mel
from spectranet.engine.plots import plot_grouped_bars

__all__ = ["plot_examples", "plot_fold_accuracy", "plot_timeline"]


def plot_examples(clips: ClipTable, settings: FeatureSettings) -> Figure:
    """Waveform and log-mel spectrogram of the first clip of each class (the paper's Fig. 7)."""
    first: dict[int, Any] = {}
    for record in clips.records:
        first.setdefault(record.label, record)
    labels = sorted(first)
    fig = Figure(figsize=(10, 1.6 * len(labels)))
    axes = fig.subplots(len(labels), 2, squeeze=False)
    for row, label in enumerate(labels):
        y = load_audio(first[label].path, sr=settings.sr)
        t = np.arange(y.size) / settings.sr
        axes[row, 0].plot(t, y, lw=0.4)
        axes[row, 0].set_ylabel(clips.class_names[label], rotation=0, ha="right", fontsize=7)
        axes[row, 0].set_xlim(0, max(t[-1], 1e-3))
        mel = log_mel(y, sr=settings.sr, n_fft=settings.n_fft, hop_length=settings.hop_length,
                      n_mels=settings.n_mels)
        axes[row, 1].imshow(mel, origin="lower", aspect="auto", cmap="magma",
                            extent=(0, y.size / settings.sr, 0, settings.n_mels))
        for ax in axes[row]:
            ax.tick_params(labelsize=6)
    axes[0, 0].set_title("waveform", fontsize=8)
    axes[0, 1].set_title("log-mel spectrogram (mel band)", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 1].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_fold_accuracy(models: Mapping[str, Sequence[Mapping[str, Any]]], *,
                       title: str = "clip accuracy per test fold") -> Figure:
    """Accuracy per test fold for each compared model (the paper's Fig. 11).

    Parameters
    ----------
    models : mapping of model name to the ``folds`` list of its ``metrics.json``
    """
    folds = sorted({f["fold"] for fs in models.values() for f in fs})
    series = {name: [next((f["clip_accuracy"] for f in fs if f["fold"] == k), np.nan)
                     for k in folds] for name, fs in models.items()}
    return plot_grouped_bars([f"fold {k}" for k in folds], series, ylabel="clip accuracy",
                             title=title, ylim=(0, 1))


def plot_timeline(times: np.ndarray, probs: np.ndarray, class_names: Sequence[str], *,
                  title: str | None = None) -> Figure:
    """Window-by-window class probabilities of a recording.

    Parameters
    ----------
    times : ndarray, shape (n_windows,), seconds
        Start time of each window.
    probs : ndarray, shape (n_windows, n_classes)
    """
    fig = Figure(figsize=(9, 3.2))
    ax = fig.subplots()
    im = ax.imshow(probs.T, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1,
                   extent=(float(times[0]), float(times[-1]) + 1e-9, -0.5,
                           len(class_names) - 0.5))
    ax.set_yticks(range(len(class_names)), class_names, fontsize=7)
    ax.set_xlabel("window start (s)")
    fig.colorbar(im, ax=ax, label="probability")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
