"""Batches for the fit loop: a seeded per-epoch order of samples, then one gather per batch.

:class:`EpochSampler` decides which samples an epoch visits and in which order; it is a
:class:`torch.utils.data.Sampler` with ``set_epoch``, so it also drives a standard
``DataLoader``. :class:`EpochBatches` cuts that order into batches and leaves the gathering of a
batch to its subclasses: :class:`ArrayBatches` here (rows of an in-memory array),
:class:`spectranet.hsi.patches.PatchBatches` (patches of a cube). The order of epoch ``e``
depends only on ``(seed, e)``, so a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from numbers import Integral
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from spectranet.errors import ConfigError, DataError

__all__ = ["EpochSampler", "EpochBatches", "ArrayBatches"]

BatchTransform = Callable[[np.ndarray, np.random.Generator], np.ndarray]
Batch = dict[str, torch.Tensor]


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


class EpochSampler(Sampler[int]):
    """The samples of an epoch: ``indices`` in order, a seeded shuffle of them, or one per group.

    Parameters
    ----------
    indices : ndarray of int, shape (n,)
        The samples to visit (positions or row numbers of the data source).
    shuffle : bool, default False
        Epoch ``e`` visits ``numpy.random.default_rng([seed, e]).permutation(indices)``.
    seed : int >= 0, default 0
    groups : ndarray of int, optional
        Group of every row of the data source (indexed by the values of ``indices``); each
        epoch then visits one sample drawn uniformly per group present in ``indices``, in a
        random order, so every group weighs the same whatever its size (e.g. one window per
        clip).

    Examples
    --------
    >>> sampler = EpochSampler(np.arange(5), shuffle=True, seed=0)
    >>> sampler.set_epoch(3)
    >>> sorted(sampler) == [0, 1, 2, 3, 4]
    True
    """

    def __init__(self, indices: np.ndarray, *, shuffle: bool = False, seed: int = 0,
                 groups: np.ndarray | None = None) -> None:
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.shuffle, self.seed, self.epoch = shuffle, _check_int("seed", seed, 0), 0
        self.groups = None if groups is None else np.asarray(groups, dtype=np.int64)
        self._n = (len(self.indices) if self.groups is None
                   else len(np.unique(self.groups[self.indices])))

    def set_epoch(self, epoch: int) -> None:
        """Select the order of ``epoch`` (e.g. when resuming at it)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self._n

    def order(self) -> np.ndarray:
        """The samples of the current epoch, in the order they are visited."""
        if self.groups is None and not self.shuffle:
            return self.indices
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.indices)
        if self.groups is not None:  # first row of each group in a random order: a uniform draw
            _, first = np.unique(self.groups[order], return_index=True)
            order = rng.permutation(order[first])
        return order

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())


class EpochBatches:
    """Batches of an :class:`EpochSampler`'s order; subclasses gather a batch in :meth:`gather`.

    Parameters
    ----------
    sampler : EpochSampler
    batch_size : int >= 1
    drop_last : bool, default False
        Drop the last incomplete batch.
    """

    def __init__(self, sampler: EpochSampler, batch_size: int, *, drop_last: bool = False
                 ) -> None:
        self.sampler, self.drop_last = sampler, drop_last
        self.batch_size = _check_int("batch_size", batch_size, 1)

    @property
    def epoch(self) -> int:
        """The epoch whose order the batches follow."""
        return self.sampler.epoch

    def set_epoch(self, epoch: int) -> None:
        """Select the order (and augmentation draws) of ``epoch``."""
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def epoch_rows(self) -> np.ndarray:
        """The samples of this epoch, in the order they are batched."""
        return self.sampler.order()

    def __iter__(self) -> Iterator[Batch]:
        return self.iter_batches(range(len(self)))

    def iter_batches(self, numbers: Iterable[int]) -> Iterator[Batch]:
        """Yield batches ``numbers`` (positions in this epoch's order) only, e.g. one rank's."""
        order = self.sampler.order()
        for b in map(int, numbers):
            yield self.gather(order[b * self.batch_size : (b + 1) * self.batch_size], b)

    def gather(self, rows: np.ndarray, number: int) -> Batch:
        """The batch ``{"x", "y", "id"}`` of ``rows``, batch ``number`` of the epoch."""
        raise NotImplementedError


class ArrayBatches(EpochBatches):
    """Iterate ``{"x", "y", "id"}`` batches over rows of an array, shuffled per epoch.

    Rows are gathered with one fancy-indexing call per batch, in ascending order (fast on
    memory-mapped arrays).

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
    seed : int >= 0, default 0
    transform : callable, optional
        ``transform(x_batch, generator) -> x_batch`` applied to each batch (augmentation,
        standardisation); the generator is seeded by ``(seed, epoch, batch)``.
    drop_last : bool, default False
    groups : ndarray, shape (n,), int, optional
        Group of each row; each epoch draws one row per group (see :class:`EpochSampler`).
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
        if not len(x) == len(y) == len(ids):
            raise DataError(f"x, y and ids differ in length: {len(x)}, {len(y)}, {len(ids)}")
        if groups is not None and len(groups) != len(x):
            raise DataError(f"groups has {len(groups)} entries for {len(x)} rows")
        self.x, self.y, self.ids = x, np.asarray(y, np.int64), np.asarray(ids, np.int64)
        self.indices = np.arange(len(x)) if indices is None else np.asarray(indices, np.int64)
        self.transform, self.seed = transform, seed
        super().__init__(EpochSampler(self.indices, shuffle=shuffle, seed=seed, groups=groups),
                         batch_size, drop_last=drop_last)

    def gather(self, rows: np.ndarray, number: int) -> Batch:
        """Rows ``rows`` (sorted first), transformed with the draws of batch ``number``."""
        rows = np.sort(rows)
        xb = np.asarray(self.x[rows], dtype=np.float32)
        if self.transform is not None:
            xb = self.transform(xb, np.random.default_rng([self.seed, self.epoch, number]))
        return {"x": torch.from_numpy(np.ascontiguousarray(xb)),
                "y": torch.from_numpy(self.y[rows]),
                "id": torch.from_numpy(self.ids[rows])}
