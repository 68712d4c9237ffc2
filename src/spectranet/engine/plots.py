"""Figures shared by both domains. Each function returns a matplotlib ``Figure``; none shows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_confusion_matrix", "plot_grouped_bars"]


def plot_history(history: Sequence[Mapping[str, float]], *, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training against validation (the style of Ahmad's Fig. 4).

    Parameters
    ----------
    history : sequence of dict
        :attr:`spectranet.engine.training.FitResult.history`.
    """
    fig = Figure(figsize=(9, 3.4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], label="training")
        if any(h[f"val_{key}"] is not None for h in history):  # None: trained without validation
            ax.plot(epochs, [h[f"val_{key}"] for h in history], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    cm: Sequence[Sequence[int]] | np.ndarray,
    class_names: Sequence[str],
    *,
    normalize: bool = True,
    title: str | None = None,
) -> Figure:
    """Confusion matrix, rows = truth, columns = prediction, row-normalised by default."""
    cm = np.asarray(cm, dtype=float)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    n = len(class_names)
    size = max(4.0, 0.45 * n + 2)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.subplots()
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(n), class_names, rotation=90, fontsize=7)
    ax.set_yticks(range(n), class_names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 16:
        for i in range(n):
            for j in range(n):
                if cm[i, j] >= 0.005:
                    ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if cm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_grouped_bars(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    errors: Mapping[str, Sequence[float]] | None = None,
    ylabel: str = "accuracy",
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Bars per group, one colour per series (e.g. accuracy per fold for each model).

    Parameters
    ----------
    groups : sequence of str
        x-axis categories.
    series : mapping of str to sequence of float
        One bar per group for each series; values aligned with ``groups``.
    errors : mapping, optional
        Error-bar half-heights, same shape as ``series``.
    """
    fig = Figure(figsize=(max(5.0, 0.9 * len(groups) * max(1, len(series)) / 2 + 3), 3.6))
    ax = fig.subplots()
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        err: Any = errors.get(name) if errors else None
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, yerr=err, label=name,
               capsize=3)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
