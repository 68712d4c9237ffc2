"""Batches of in-memory samples for the fit loop, with a seeded per-epoch shuffle or draw."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch

from spectranet.errors import ConfigError, DataError

__all__ = ["ArrayBatches"]

BatchTransform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class ArrayBatches:
    """Iterate ``{"x", "y", "id"}`` batches over rows of an array, shuffled per epoch.

    The shuffle of epoch ``e`` depends only on ``(seed, e)``, so a resumed run sees the same
    batches as an uninterrupted one. Rows are gathered with one fancy-indexing call per batch.
    With ``groups``, an epoch is one row drawn at random from each group (e.g. one window per
    clip), so every group weighs the same whatever its number of rows.

    Parameters
    ----------
    x : ndarray, shape (n, ...), float32
        Samples (e.g. feature windows); only rows in ``indices`` are read.
    y : ndarray, shape (n,), int
        Class index per row.
    ids : ndarray, shape (n,), int
        Sample id per row (e.g. the clip a window comes from).
    indices : ndarray of int, optional
        Rows to iterate (default: all).
    batch_size : int >= 1, default 32
    shuffle : bool, default False
    seed : int, default 0
    transform : callable, optional
        ``transform(x_batch, generator) -> x_batch`` applied to each batch (augmentation,
        standardisation); the generator is seeded by ``(seed, epoch, batch)``.
    drop_last : bool, default False
    groups : ndarray, shape (n,), int, optional
        Group of each row; when given, each epoch draws one row per group present in
        ``indices``, uniformly within the group (seeded by ``(seed, epoch)``), in shuffled order.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        ids: np.ndarray,
        *,
        indices: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int = 0,
        transform: BatchTransform | None = None,
        drop_last: bool = False,
        groups: np.ndarray | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if not len(x) == len(y) == len(ids):
            raise DataError(f"x, y and ids differ in length: {len(x)}, {len(y)}, {len(ids)}")
        self.x, self.y, self.ids = x, np.asarray(y, np.int64), np.asarray(ids, np.int64)
        self.indices = np.arange(len(x)) if indices is None else np.asarray(indices, np.int64)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.transform, self.drop_last, self.epoch = transform, drop_last, 0
        self.groups = None
        if groups is not None:
            groups = np.asarray(groups, np.int64)
            if len(groups) != len(x):
                raise DataError(f"groups has {len(groups)} entries for {len(x)} rows")
            self.groups = groups
            self._n_draws = len(np.unique(groups[self.indices]))

    def set_epoch(self, epoch: int) -> None:
        """Select the shuffle (and augmentation draws) of ``epoch``."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.indices) if self.groups is None else self._n_draws
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def epoch_rows(self) -> np.ndarray:
        """The rows of this epoch, in the order they are batched."""
        if self.groups is None and not self.shuffle:
            return self.indices
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.indices)
        if self.groups is not None:  # first row of each group in a random order: a uniform draw
            _, first = np.unique(self.groups[order], return_index=True)
            order = rng.permutation(order[first])
        return order

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.iter_batches(range(len(self)))

    def iter_batches(self, numbers: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Yield batches ``numbers`` (positions in this epoch's order) only, e.g. one rank's."""
        order = self.epoch_rows()
        for b in map(int, numbers):
            rows = np.sort(order[b * self.batch_size : (b + 1) * self.batch_size])
            xb = np.asarray(self.x[rows], dtype=np.float32)
            if self.transform is not None:
                xb = self.transform(xb, np.random.default_rng([self.seed, self.epoch, b]))
            yield {
                "x": torch.from_numpy(np.ascontiguousarray(xb)),
                "y": torch.from_numpy(self.y[rows]),
                "id": torch.from_numpy(self.ids[rows]),
            }
