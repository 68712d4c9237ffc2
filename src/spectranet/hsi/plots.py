"""Figures of a hyperspectral split: where the training, validation and test pixels lie."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from spectranet.errors import DataError
from spectranet.hsi.splits import Split, _check_labels

__all__ = ["region_map", "plot_regions", "REGIONS"]

#: Region codes of :func:`region_map`, with their legend text and colour (Okabe-Ito).
REGIONS: tuple[tuple[str, str], ...] = (
    ("unlabelled", "#ffffff"),
    ("training", "#0072b2"),
    ("validation", "#e69f00"),
    ("test", "#009e73"),
    ("buffer or unused labelled", "#999999"),
)


def region_map(split: Split, labels: np.ndarray) -> np.ndarray:
    """Code every pixel of a scene by the set it belongs to.

    Parameters
    ----------
    split : Split
        Flat pixel indices ``r * cols + c`` of the sets.
    labels : ndarray of int, shape (rows, cols)
        Class index per pixel, -1 = unlabelled.

    Returns
    -------
    ndarray of int8, shape (rows, cols)
        0 unlabelled, 1 training, 2 validation, 3 test, 4 labelled but in no set (the buffer
        of the disjoint protocol or ``--split-buffer``, or pixels a split file leaves out); the
        order of :data:`REGIONS`.

    Raises
    ------
    DataError
        A set holds an unlabelled pixel or one outside the scene.

    Examples
    --------
    >>> labels = np.zeros((1, 5), dtype=np.int64)
    >>> region_map(Split([0], [1], [4]), labels).tolist()
    [[1, 2, 4, 4, 3]]
    """
    labels = _check_labels(labels)
    codes = np.where(labels >= 0, 4, 0).astype(np.int8)
    flat = codes.reshape(-1)
    for code, indices in ((1, split.train), (2, split.val), (3, split.test)):
        if indices.size and indices.max() >= flat.size:
            raise DataError(f"split holds pixel {indices.max()}, outside a scene of shape "
                            f"{labels.shape}")
        if indices.size and (flat[indices] == 0).any():
            raise DataError(f"split's {REGIONS[code][0]} set holds unlabelled pixels")
        flat[indices] = code
    return codes


def plot_regions(split: Split, labels: np.ndarray, *, title: str | None = None) -> Figure:
    """The scene's grid with its training, validation, test and buffer pixels in four colours.

    Parameters
    ----------
    split : Split
    labels : ndarray of int, shape (rows, cols)
        Class index per pixel, -1 = unlabelled (white).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The legend gives each region's pixel count.
    """
    codes = region_map(split, labels)
    rows, cols = codes.shape
    fig = Figure(figsize=(4.0 * cols / max(rows, cols) + 2.6, 4.0 * rows / max(rows, cols) + 0.6))
    ax = fig.subplots()
    cmap = ListedColormap([colour for _, colour in REGIONS])
    ax.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(REGIONS) - 0.5, interpolation="nearest")
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    counts = np.bincount(codes.ravel(), minlength=len(REGIONS))
    handles = [Patch(facecolor=colour, edgecolor="black", linewidth=0.5,
                     label=f"{name} ({counts[code]:,})")
               for code, (name, colour) in enumerate(REGIONS) if code > 0]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
              frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
