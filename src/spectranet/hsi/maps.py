"""Full-scene classification maps: batched inference over every pixel, and their figures."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any, Literal, overload

import numpy as np
import torch
from matplotlib.colors import BoundaryNorm, ListedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from torch import nn

from spectranet.engine.precision import PRECISIONS
from spectranet.engine.scoring import predict_proba
from spectranet.errors import ConfigError, DataError
from spectranet.hsi.patches import PatchBatches, PatchDataset

__all__ = ["predict_map", "plot_map", "plot_rgb"]

Color = str | Sequence[float]


@overload
def predict_map(
    model: nn.Module, cube_reduced: np.ndarray, *, window: int, batch_size: int = ...,
    device: str | torch.device = ..., precision: str = ..., progress: bool = ...,
    mode: str = ..., return_proba: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def predict_map(
    model: nn.Module, cube_reduced: np.ndarray, *, window: int, batch_size: int = ...,
    device: str | torch.device = ..., precision: str = ..., progress: bool = ...,
    mode: str = ..., return_proba: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...


def predict_map(
    model: nn.Module,
    cube_reduced: np.ndarray,
    *,
    window: int,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    progress: bool = True,
    mode: str = "reflect",
    return_proba: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Classify every pixel of a scene, a batch of patches at a time.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, 1, bands, window, window)`` float32 to logits ``(N, K)``.
    cube_reduced : ndarray, shape (H, W, bands), real
        The scene as the model expects it (e.g. the output of ``SpectralReducer.transform``).
    window : odd int >= 3, pixels
        Patch side the model was trained with.
    batch_size : int >= 1, default 1024
        Patches per forward pass; bounds memory (N x bands x window^2 x 4 bytes).
    device : str or torch.device, default "cpu"
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" runs under bfloat16 autocast (CPU or GPU).
    progress : bool, default True
        Show a progress bar.
    mode : {"reflect", "constant", "edge"}, default "reflect"
        Border padding; use the training one.
    return_proba : bool, default False
        Also return the class probabilities.

    Returns
    -------
    class_map : ndarray, shape (H, W), int64
        Predicted class index 0..K-1 for every pixel, border pixels included.
    probabilities : ndarray, shape (H, W, K), float32
        Softmax of the logits; only when ``return_proba`` is True.

    Raises
    ------
    ConfigError
        Invalid window, batch size, precision or mode.
    DataError
        Malformed cube or a model output that is not (N, K).
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    dataset = PatchDataset(cube_reduced, None, None, window=window, mode=mode)
    h, w = dataset.shape
    was_training = model.training
    try:
        proba, ids = predict_proba(model, PatchBatches(dataset, batch_size), device=device,
                                   precision=precision, progress=progress)
    finally:
        model.train(was_training)
    if proba.ndim != 2 or proba.shape[0] != h * w:
        raise DataError(f"model output must be (N, K) logits, got shape {proba.shape}")
    full = np.empty((h * w, proba.shape[1]), dtype=np.float32)
    full[ids] = proba
    class_map = full.argmax(axis=1).astype(np.int64).reshape(h, w)
    return (class_map, full.reshape(h, w, -1)) if return_proba else class_map


def _colors(palette: Sequence[Color], n_classes: int) -> list[tuple[float, float, float]]:
    if len(palette) < n_classes:
        raise ConfigError(f"palette must hold >= {n_classes} colours, got {len(palette)}")
    out = []
    for color in palette[:n_classes]:
        if not isinstance(color, str) and all(isinstance(v, Integral) for v in color):
            color = tuple(float(v) / 255.0 for v in color)  # 0-255 integers
        out.append(to_rgb(color))
    return out


def _show(ax: Any, class_map: np.ndarray, cmap: ListedColormap, norm: BoundaryNorm, title: str
          ) -> None:
    ax.imshow(class_map + 1, cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()


def plot_map(
    labels_map: np.ndarray,
    palette: Sequence[Color],
    class_names: Sequence[str],
    *,
    ground_truth: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a classification map (and the ground truth beside it) in the scene's colours.

    Parameters
    ----------
    labels_map : int ndarray, shape (H, W)
        Class index 0..K-1 per pixel; -1 (unlabelled) is drawn black.
    palette : sequence of K colours
        Matplotlib colours: names, hex, float RGB in [0, 1]; integer RGB triples are 0-255.
    class_names : sequence of K str
        Legend entries; K is ``len(class_names)``.
    ground_truth : int ndarray, shape (H, W), or None, default None
        Drawn on the right when given.
    title : str or None, default None
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_classes = len(class_names)
    maps = [("Prediction", labels_map)] + ([("Ground truth", ground_truth)]
                                           if ground_truth is not None else [])
    for name, m in maps:
        m = np.asarray(m)
        if m.ndim != 2 or not np.issubdtype(m.dtype, np.integer):
            raise DataError(f"{name.lower()} map must be a 2-D integer array, got {m.dtype} "
                            f"{m.shape}")
        if m.size and (m.min() < -1 or m.max() >= n_classes):
            raise DataError(f"{name.lower()} map values must be in [-1, {n_classes}), "
                            f"got [{m.min()}, {m.max()}]")
    if ground_truth is not None and np.shape(ground_truth) != np.shape(labels_map):
        raise DataError(f"ground_truth must have shape {np.shape(labels_map)}, "
                        f"got {np.shape(ground_truth)}")
    colors = _colors(palette, n_classes)
    cmap = ListedColormap([(0.0, 0.0, 0.0), *colors])
    norm = BoundaryNorm(np.arange(n_classes + 2) - 0.5, cmap.N)
    h, w = np.shape(labels_map)
    fig = Figure(figsize=(4.0 * len(maps) * max(w / h, 0.5) + 2.5, 4.5), layout="constrained")
    axes = fig.subplots(1, len(maps), squeeze=False)[0]
    for ax, (name, m) in zip(axes, maps, strict=True):
        _show(ax, np.asarray(m).astype(np.int64), cmap, norm, name)
    handles = [Patch(color=c, label=str(n)) for c, n in zip(colors, class_names, strict=True)]
    fig.legend(handles=handles, loc="outside right center", fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_rgb(
    cube: np.ndarray,
    rgb_bands: Sequence[int],
    *,
    percentiles: tuple[float, float] = (2.0, 98.0),
    title: str | None = None,
) -> Figure:
    """False-colour image of three bands, each stretched between two percentiles.

    Parameters
    ----------
    cube : ndarray, shape (H, W, bands), real
    rgb_bands : three band indices (red, green, blue)
    percentiles : (low, high) in [0, 100], default (2, 98)
        Per-band contrast stretch.
    title : str or None, default None

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(cube, np.ndarray) or cube.ndim != 3:
        raise DataError(f"cube must be a 3-D (H, W, bands) ndarray, got "
                        f"{getattr(cube, 'shape', type(cube).__name__)}")
    bands = [int(b) for b in rgb_bands]
    if len(bands) != 3 or min(bands) < 0 or max(bands) >= cube.shape[2]:
        raise ConfigError(f"rgb_bands must be 3 band indices in [0, {cube.shape[2]}), "
                          f"got {list(rgb_bands)}")
    low, high = percentiles
    if not 0 <= low < high <= 100:
        raise ConfigError(f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles}")
    rgb = cube[:, :, bands].astype(np.float64)
    lo = np.percentile(rgb, low, axis=(0, 1))
    hi = np.percentile(rgb, high, axis=(0, 1))
    rgb = np.clip((rgb - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)
    fig = Figure(figsize=(5.0, 5.0), layout="constrained")
    ax = fig.subplots()
    ax.imshow(rgb, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig
