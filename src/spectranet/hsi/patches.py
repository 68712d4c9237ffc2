"""Patches gathered on the fly from one padded cube, never all patches in memory.

A patch is the ``window x window`` neighbourhood of a pixel, every band, laid out as a
:class:`torch.nn.Conv3d` input: ``(1, bands, window, window)`` = (channel, depth, height, width).
The cube is padded by ``window // 2`` on each side, so border pixels get patches too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from spectranet.engine.batches import EpochBatches, EpochSampler
from spectranet.errors import ConfigError, DataError

__all__ = ["PAD_MODES", "check_window", "pad_cube", "PatchDataset", "PatchBatches"]

PAD_MODES = ("reflect", "constant", "edge")
Sample = dict[str, torch.Tensor]


def check_window(window: Any, shape: tuple[int, int] | None = None) -> int:
    """Validate a patch side: an odd integer >= 3, not larger than the scene's smaller side.

    Parameters
    ----------
    window : odd int >= 3, pixels
    shape : (H, W) or None, default None
        Scene shape; None skips the size check.

    Returns
    -------
    int
        ``window`` as a Python int.

    Raises
    ------
    ConfigError
        "window must be an odd integer >= 3, got 10".
    """
    if isinstance(window, bool) or not isinstance(window, Integral) or window < 3 \
            or window % 2 == 0:
        raise ConfigError(f"window must be an odd integer >= 3, got {window!r}")
    if shape is not None and window > min(shape):
        raise ConfigError(
            f"window must not exceed the scene's smaller side ({min(shape)}), got {window}"
        )
    return int(window)


def _check_cube(cube: Any) -> np.ndarray:
    if not isinstance(cube, np.ndarray) or cube.ndim != 3 or 0 in cube.shape:
        shape = getattr(cube, "shape", type(cube).__name__)
        raise DataError(f"cube must be a non-empty 3-D (H, W, bands) ndarray, got {shape}")
    if not (np.issubdtype(cube.dtype, np.floating) or np.issubdtype(cube.dtype, np.integer)):
        raise DataError(f"cube must hold real numbers, got dtype {cube.dtype}")
    if np.issubdtype(cube.dtype, np.floating) and not np.isfinite(cube).all():
        raise DataError("cube must hold finite values, got NaN or inf")
    return cube


def pad_cube(cube: np.ndarray, window: int, mode: str = "reflect") -> np.ndarray:
    """Pad the two spatial axes of ``cube`` by ``window // 2`` pixels.

    Parameters
    ----------
    cube : ndarray, shape (H, W, bands), real
    window : odd int >= 3, pixels, at most min(H, W)
    mode : {"reflect", "constant", "edge"}, default "reflect"
        :func:`numpy.pad` mode; "constant" pads with zeros.

    Returns
    -------
    ndarray, shape (H + 2m, W + 2m, bands), float32, with m = window // 2

    Raises
    ------
    DataError
        Malformed cube or NaN/inf.
    ConfigError
        Invalid window or mode.
    """
    cube = _check_cube(cube)
    window = check_window(window, cube.shape[:2])
    if mode not in PAD_MODES:
        raise ConfigError(f"mode must be one of {PAD_MODES}, got {mode!r}")
    m = window // 2
    return np.pad(cube.astype(np.float32, copy=False), ((m, m), (m, m), (0, 0)), mode=mode)


class PatchDataset(Dataset[Sample]):
    """Patches centred on chosen pixels of one scene, gathered from a single padded cube.

    Parameters
    ----------
    cube : ndarray, shape (H, W, bands), real
        The (reduced) scene; padded once, as float32, kept as one (bands, H+2m, W+2m) tensor.
    labels : int ndarray, shape (H, W), or None, default None
        Class index 0..K-1, -1 = unlabelled; None gives ``y = -1`` everywhere.
    pixels : 1-D int array of flat indices ``r * W + c`` or None, default None
        Patch centres, in dataset order. None = every labelled pixel (every pixel if ``labels``
        is None).
    window : odd int >= 3, pixels
        Patch side, at most min(H, W).
    mode : {"reflect", "constant", "edge"}, default "reflect"
        Padding at the scene border.
    transforms : callable or None, default None
        Applied to each sample dict by ``__getitem__`` / ``__getitems__``.

    Notes
    -----
    Memory is one padded cube plus the index arrays, whatever the number of patches. Samples
    are ``{"x": (1, bands, window, window) float32, "y": int64, "id": int64 pixel index}``.
    :meth:`__getitems__` lets a :class:`~torch.utils.data.DataLoader` fetch a whole batch with
    one gather; :class:`PatchBatches` yields batches without the collate copy.

    Examples
    --------
    >>> train = PatchDataset(reduced, labels, split.train, window=11)
    >>> test = train.subset(split.test)          # shares the padded cube
    >>> batch = train.batch(np.arange(256))      # {"x": (256, 1, 20, 11, 11), "y", "id"}
    """

    def __init__(
        self,
        cube: np.ndarray,
        labels: np.ndarray | None = None,
        pixels: Sequence[int] | np.ndarray | None = None,
        *,
        window: int,
        mode: str = "reflect",
        transforms: Callable[[Sample], Sample] | None = None,
    ) -> None:
        cube = _check_cube(cube)
        h, w, _ = cube.shape
        window = check_window(window, (h, w))
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (h, w) or not np.issubdtype(labels.dtype, np.integer):
                raise DataError(f"labels must be an integer array of shape {(h, w)}, "
                                f"got {labels.dtype} {labels.shape}")
        # (bands, H + 2m, W + 2m): every patch is then a strided view of this one tensor
        self._padded = torch.from_numpy(pad_cube(cube, window, mode)).permute(2, 0, 1).contiguous()
        self._labels = None if labels is None else labels.astype(np.int64, copy=False).ravel()
        self.shape, self.window, self.mode, self.transforms = (h, w), window, mode, transforms
        self.n_bands = cube.shape[2]
        self._set_pixels(pixels)

    def _set_pixels(self, pixels: Sequence[int] | np.ndarray | None) -> None:
        h, w = self.shape
        if pixels is None:
            pixels = np.arange(h * w) if self._labels is None else np.flatnonzero(self._labels >= 0)
        pixels = np.asarray(pixels)
        if pixels.ndim != 1 or (pixels.size and not np.issubdtype(pixels.dtype, np.integer)):
            raise DataError(f"pixels must be a 1-D integer array, got {pixels.dtype} "
                            f"{pixels.shape}")
        if pixels.size and (pixels.min() < 0 or pixels.max() >= h * w):
            bad = pixels.min() if pixels.min() < 0 else pixels.max()
            raise DataError(f"pixels must be flat indices in [0, {h * w}), got {bad}")
        self.pixels = pixels.astype(np.int64)
        self.targets = (np.full(self.pixels.size, -1, np.int64) if self._labels is None
                        else self._labels[self.pixels])
        rows, cols = np.divmod(self.pixels, w)
        # pixel (r, c) is centred in the padded window whose top-left corner is (r, c)
        self._rows, self._cols = torch.from_numpy(rows), torch.from_numpy(cols)

    @property
    def padded(self) -> torch.Tensor:
        """The padded cube shared by :meth:`subset` datasets, shape (bands, H+2m, W+2m)."""
        return self._padded

    def subset(self, pixels: Sequence[int] | np.ndarray | None) -> PatchDataset:
        """Return a dataset over other ``pixels`` of the scene sharing the padded cube (no copy)."""
        other = object.__new__(PatchDataset)
        other.__dict__.update(self.__dict__)
        other._set_pixels(pixels)
        return other

    def __len__(self) -> int:
        return int(self.pixels.size)

    def _positions(self, positions: Any) -> torch.Tensor:
        pos = torch.as_tensor(np.asarray(positions, dtype=np.int64)).reshape(-1)
        n = len(self)
        if pos.numel() and (int(pos.min()) < -n or int(pos.max()) >= n):
            raise IndexError(f"dataset positions must be in [0, {n}), got {positions!r}")
        return torch.where(pos < 0, pos + n, pos)

    def gather(self, positions: Sequence[int] | np.ndarray | torch.Tensor) -> torch.Tensor:
        """Patches at dataset ``positions``, gathered at once (no per-sample Python loop).

        Returns
        -------
        Tensor, shape (n, 1, bands, window, window), float32, contiguous
        """
        pos = self._positions(positions)
        s = self.window
        # (H, W, bands, S, S) view of all patches (no copy); advanced indexing copies only these
        windows = self._padded.unfold(1, s, 1).unfold(2, s, 1).permute(1, 2, 0, 3, 4)
        return windows[self._rows[pos], self._cols[pos]].unsqueeze(1)

    def batch(self, positions: Sequence[int] | np.ndarray | torch.Tensor) -> Sample:
        """Return a batch ``{"x": (n, 1, bands, S, S), "y": (n,), "id": (n,)}`` from one gather."""
        pos = self._positions(positions)
        return {
            "x": self.gather(pos),
            "y": torch.from_numpy(self.targets[pos.numpy()]),
            "id": torch.from_numpy(self.pixels[pos.numpy()]),
        }

    def __getitems__(self, positions: Sequence[int]) -> list[Sample]:
        """Return the samples at ``positions`` from one gather (DataLoader's batch fetch)."""
        batch = self.batch(positions)
        samples = [dict(zip(batch, values, strict=True))
                   for values in zip(*batch.values(), strict=True)]
        return [self.transforms(s) for s in samples] if self.transforms else samples

    def __getitem__(self, position: int) -> Sample:
        """Return the sample at ``position``: ``{"x": (1, bands, S, S), "y": (), "id": ()}``."""
        if isinstance(position, bool) or not isinstance(position, Integral):
            raise TypeError(f"position must be an int, got {type(position).__name__}")
        return self.__getitems__([int(position)])[0]


class PatchBatches(EpochBatches):
    """Iterable of batch dicts over a :class:`PatchDataset`, one gather per batch.

    Parameters
    ----------
    dataset : PatchDataset
    batch_size : int >= 1, default 256
    shuffle : bool, default False
        Epoch ``e`` (see ``set_epoch``) visits the patches in the order
        ``numpy.random.default_rng([seed, e]).permutation(len(dataset))``.
    seed : int >= 0 or None, default None
        Required when ``shuffle`` is True.
    drop_last : bool, default False
        Drop the last incomplete batch.
    transforms : callable or None, default None
        Applied to each batch dict.

    Examples
    --------
    >>> loader = PatchBatches(train, 256, shuffle=True, seed=0)
    >>> loader.set_epoch(3)
    >>> for batch in loader: ...                 # batch["x"]: (256, 1, bands, S, S)
    """

    def __init__(
        self,
        dataset: PatchDataset,
        batch_size: int = 256,
        *,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
        transforms: Callable[[Sample], Sample] | None = None,
    ) -> None:
        if not isinstance(dataset, PatchDataset):
            raise ConfigError(f"dataset must be a PatchDataset, got {type(dataset).__name__}")
        if shuffle and seed is None:
            raise ConfigError("seed must be an integer >= 0 when shuffle=True, got None")
        self.dataset, self.transforms = dataset, transforms
        sampler = EpochSampler(np.arange(len(dataset)), shuffle=shuffle,
                               seed=0 if seed is None else seed)
        super().__init__(sampler, batch_size, drop_last=drop_last)

    def gather(self, rows: np.ndarray, number: int) -> Sample:
        """The patches at dataset positions ``rows``, then ``transforms``."""
        batch = self.dataset.batch(rows)
        return self.transforms(batch) if self.transforms else batch
