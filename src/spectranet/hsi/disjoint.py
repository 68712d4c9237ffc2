"""Spatially disjoint splits: no training or validation patch holds a test pixel.

The leakage-free protocol of :mod:`spectranet.hsi.splits`: whole regions of the scene go to
training, validation and test, with a buffer of half a window around each so that no patch
crosses from one set into another.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
from scipy import ndimage

from spectranet.errors import ConfigError
from spectranet.hsi.splits import (
    SETS,
    Seed,
    Split,
    _check_fraction,
    _check_labels,
    _check_seed,
    _class_pixels,
    _name,
)

__all__ = ["disjoint_split"]


# Set priorities when a class cannot reach all three sets: training first, then test.
_EMPTY_COST = {"train": 1000.0, "test": 100.0, "val": 10.0}
_ORDERS = (("test", "train", "val"), ("test", "val", "train"), ("val", "test", "train"))


def _near(mask: np.ndarray, window: int) -> np.ndarray:
    """Pixels whose ``window x window`` patch contains a pixel of ``mask`` (binary dilation)."""
    return ndimage.maximum_filter(mask.astype(np.uint8), size=window, mode="constant") > 0


def _stripes(mask: np.ndarray, gap: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Order a class's pixels as one sequence of stripes.

    Pixels at most ``gap`` apart (Chebyshev) are grouped into one field; each field is cut
    into stripes across its longer side (random direction), fields are chained in random order
    with ``gap`` empty stripes between them. Any two pixels ``gap`` stripes apart or more are then
    more than ``gap`` pixels apart. Returns (stripe position per pixel, flat pixel indices).
    """
    side = 2 * (gap // 2) + 1  # dilated by gap // 2, pixels up to gap apart touch
    fields, n_fields = ndimage.label(_near(mask, side), structure=np.ones((3, 3), dtype=bool))
    fields = np.where(mask, fields, 0)
    positions, pixels, offset = [], [], 0
    for lab in rng.permutation(np.arange(1, n_fields + 1)):
        rr, cc = np.nonzero(fields == lab)
        along = rr if np.ptp(rr) >= np.ptp(cc) else cc
        t = along - along.min()
        if rng.random() < 0.5:
            t = t.max() - t
        positions.append(t + offset)
        pixels.append(rr.astype(np.int64) * mask.shape[1] + cc)
        offset += int(t.max()) + 1 + gap
    return np.concatenate(positions), np.concatenate(pixels)


def _best_cut(
    counts: np.ndarray, gap: int, share: np.ndarray, empty_cost: np.ndarray, total: int
) -> tuple[int, int, float]:
    """Cut stripes into ``first [0, a) | middle [a+gap, b-gap) | last [b, R)``.

    ``counts`` (3, R) holds, per set of the order, the usable pixels of each stripe. The loss is
    the summed relative miss of the target ``share`` (3,) among the kept pixels, plus the share
    of the class's ``total`` pixels lost, plus ``empty_cost`` (3,) per empty set.
    Returns (a, b, loss).
    """
    cum = np.concatenate([np.zeros((3, 1)), np.cumsum(counts, axis=1)], axis=1)
    n_rows = counts.shape[1]
    b = np.arange(n_rows + 1)
    best = (0, n_rows, np.inf)
    for a in range(n_rows + 1):
        lo = min(a + gap, n_rows) if a > 0 else 0  # no gap needed after an empty first set
        hi = np.clip(np.where(b < n_rows, b - gap, n_rows), lo, n_rows)
        got = np.stack([np.full(b.size, cum[0, a]), cum[1, hi] - cum[1, lo],
                        cum[2, -1] - cum[2, b]])
        kept = np.maximum(got.sum(0), 1.0)
        loss = (np.abs(got / kept - share[:, None]) / share[:, None]).sum(0) + 1.0 - kept / total
        loss += (empty_cost[:, None] * (got <= 0)).sum(0)
        # the last set starts at least gap stripes after the first (unless one is empty)
        loss[(b < a) | ((b < a + gap) & (a > 0) & (b < n_rows))] = np.inf
        j = int(np.argmin(loss))
        if loss[j] < best[2]:
            best = (a, j, float(loss[j]))
    return best


def _blocks(n_rows: int, block: int | None) -> list[tuple[int, int]]:
    """Stripe ranges ``[lo, hi)`` of the blocks: one, or ``block`` to ``2 * block`` stripes each."""
    if block is None or n_rows < 2 * block:
        return [(0, n_rows)]
    edges = [k * block for k in range(n_rows // block)] + [n_rows]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _cut_block(pos: np.ndarray, n_rows: int, usable: dict[str, np.ndarray], inside: np.ndarray,
               share: dict[str, float], gap: int, total: int) -> dict[str, np.ndarray]:
    """Cut one block's stripes into test, training and validation parts.

    ``pos`` are the block's stripe positions in [0, n_rows); the order of the three parts is
    the one that best meets the targets. Returns one mask over ``pos`` per set.
    """
    best = None
    for order in _ORDERS:
        counts = np.stack([np.bincount(pos, weights=usable[n][inside], minlength=n_rows)
                           for n in order])
        target = np.array([share[n] for n in order])
        cost = np.array([_EMPTY_COST[n] for n in order])
        a, b, loss = _best_cut(counts, gap, target, cost, total)
        if best is None or loss < best[0]:
            best = (loss, order, a, b)
    _, order, a, b = best
    mid_lo, mid_hi = (a + gap if a > 0 else 0), (b - gap if b < n_rows else n_rows)
    parts = (pos < a, (pos >= mid_lo) & (pos < mid_hi), pos >= b)
    return {name: part & usable[name][inside] for name, part in zip(order, parts, strict=True)}


def disjoint_split(
    labels: np.ndarray,
    *,
    window: int,
    test_size: float = 0.3,
    val_size: float = 0.15,
    seed: Seed,
    class_names: Sequence[str] | None = None,
    block: int | None = None,
) -> Split:
    """Spatially disjoint split without patch leakage (the leakage-free protocol).

    Classes are placed one at a time, smallest first. A class's fields are cut into stripes
    across their longer side, and the stripe sequence into three contiguous parts (test,
    training, validation in the order that best meets the targets) with ``window // 2`` free
    stripes at each cut. A pixel may only join a set if that keeps the rules with the classes
    already placed: no training or validation patch (``window x window`` around its centre)
    contains a test pixel, and no training patch contains a validation pixel. A final pass
    (binary dilation of the test, then validation masks) enforces both rules on the result.
    Classes too small for three sets keep training, then test. Labelled pixels in no set are
    ``discarded`` (the buffer).

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
        Class index 0..K-1 per pixel, -1 = unlabelled.
    window : odd int >= 3, pixels
        Patch side of the model; the buffer is ``window // 2`` pixels wide.
    test_size : float in (0, 1), default 0.3
        Target share of test among each class's kept (non-buffer) pixels.
    val_size : float in (0, 1), default 0.15
        Target share of validation among each class's kept pixels; training gets the rest.
    seed : int >= 0 or numpy.random.Generator
        Chooses the order of each class's fields and the direction of their stripes.
    class_names : sequence of str, optional
        How messages and notes name each class index (e.g. "9 Oats"); default the index.
    block : int >= 3 * (window // 2) + 3, stripes, optional
        Default None: each class's stripe sequence is cut once into three parts. With ``block``,
        the sequence is first cut into blocks of ``block`` to ``2 * block`` stripes (the first
        ``window // 2`` stripes of each later block are dropped as a buffer) and every block is
        cut into three parts, so that each set samples every part of a class's fields.

    Returns
    -------
    Split
        ``notes`` names every class absent from a set; ``info["missing"]`` maps those classes
        (as str) to the sets they miss; ``info["discarded_per_class"]`` counts buffer pixels
        per class (str keys, JSON-stable).

    Raises
    ------
    ConfigError
        Invalid window, fractions (``test_size + val_size`` must be < 1) or seed.
    DataError
        Malformed labels.
    """
    labels = _check_labels(labels)
    if isinstance(window, bool) or not isinstance(window, Integral) or window < 3 \
            or window % 2 == 0:
        raise ConfigError(f"window must be an odd integer >= 3, got {window!r}")
    test_size = _check_fraction("test_size", test_size)
    val_size = _check_fraction("val_size", val_size)
    if test_size + val_size >= 1.0:
        raise ConfigError(f"test_size + val_size must be < 1, got {test_size} + {val_size}")
    rng = _check_seed(seed)
    pixels = _class_pixels(labels)
    window, gap = int(window), int(window) // 2
    if block is not None and (isinstance(block, bool) or not isinstance(block, Integral)
                              or block < 3 * gap + 3):
        raise ConfigError(f"block must be an integer >= 3 * (window // 2) + 3 = {3 * gap + 3} "
                          f"stripes, got {block!r}")
    share = {"test": test_size, "val": val_size, "train": 1.0 - test_size - val_size}

    placed = {n: np.zeros(labels.shape, dtype=bool) for n in SETS}
    near = {n: np.zeros(labels.shape, dtype=bool) for n in SETS}
    for k in sorted(pixels, key=lambda c: (pixels[c].size, c)):
        pos, pix = _stripes(labels == k, gap, rng)
        usable = {  # joining set n must not break the rules with classes already placed
            "test": ~(near["train"] | near["val"]).flat[pix],
            "val": ~(near["test"] | near["train"]).flat[pix],
            "train": ~(near["test"] | near["val"]).flat[pix],
        }
        chosen = {n: np.zeros(pix.size, dtype=bool) for n in SETS}
        for lo, hi in _blocks(int(pos.max()) + 1, block):
            inside = (pos >= lo + (gap if lo > 0 else 0)) & (pos < hi)  # buffer between blocks
            for name, part in _cut_block(pos[inside] - lo, hi - lo, usable, inside, share, gap,
                                         int(inside.sum())).items():
                chosen[name][np.flatnonzero(inside)[part]] = True
        for name in SETS:
            new = np.isin(np.arange(labels.size), pix[chosen[name]]).reshape(labels.shape)
            placed[name] |= new
            near[name] |= _near(new, window)

    test = placed["test"]
    val = placed["val"] & ~_near(test, window)
    train = placed["train"] & ~_near(test, window) & ~_near(val, window)
    kept = (train | val | test).ravel()
    discarded = np.flatnonzero((labels.ravel() >= 0) & ~kept)

    notes, missing, dropped = [], {}, {}  # keyed by str(class) to survive JSON unchanged
    for k, idx in pixels.items():
        absent = [n for n, m in zip(SETS, (train, val, test), strict=True) if not m.flat[idx].any()]
        dropped[str(k)] = int((~kept[idx]).sum())
        if absent:
            missing[str(k)] = absent
            notes.append(f"class {_name(k, class_names)} ({idx.size} pixels) is absent from "
                         f"{', '.join(absent)} "
                         f"at window {window}")
    info = {"protocol": "disjoint", "window": window, "test_size": test_size,
            "val_size": val_size, "missing": missing, "block": block,
            "seed": "generator" if isinstance(seed, np.random.Generator) else int(seed),
            "discarded_per_class": dropped, "n_discarded": int(discarded.size)}
    return Split(np.flatnonzero(train), np.flatnonzero(val), np.flatnonzero(test),
                 discarded=discarded, notes=tuple(notes), info=info)
