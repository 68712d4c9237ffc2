"""Per-band standardisation of feature windows, fitted on training windows only."""

from __future__ import annotations

from typing import Any

import numpy as np

from spectranet.errors import DataError, NotFittedError

__all__ = ["Standardizer"]


class Standardizer:
    """Per channel and mel band standardisation, fitted on training windows only.

    sklearn-style: ``fit`` learns ``mean_`` and ``scale_`` (shape (channels, n_mels, 1)), in
    float64 over windows and frames, chunked so no float64 copy of ``x`` is made; a band with
    zero variance gets scale 1. ``transform`` before ``fit`` raises NotFittedError.
    """

    def __init__(self, *, chunk: int = 4096) -> None:
        self.chunk = chunk

    def fit(self, x: np.ndarray, *, indices: np.ndarray | None = None) -> Standardizer:
        """Learn statistics from ``x[indices]``, shape (n, channels, n_mels, frames)."""
        if x.ndim != 4:
            raise DataError(f"x must have shape (n, channels, n_mels, frames), got {x.shape}")
        idx = np.arange(len(x)) if indices is None else np.asarray(indices)
        if idx.size == 0:
            raise DataError("x must hold at least one training window, got 0")
        parts = [idx[i : i + self.chunk] for i in range(0, idx.size, self.chunk)]
        count = idx.size * x.shape[-1]
        total = np.zeros(x.shape[1:3], dtype=np.float64)
        for part in parts:
            block = x[part]
            if not np.isfinite(block).all():
                raise DataError("x must be finite, got NaN or inf")
            total += block.sum(axis=(0, 3), dtype=np.float64)
        mean = total / count
        sq = np.zeros_like(total)
        for part in parts:
            sq += ((x[part] - mean[None, :, :, None]) ** 2).sum(axis=(0, 3), dtype=np.float64)
        std = np.sqrt(sq / count)
        self.mean_ = mean[:, :, None]
        self.scale_ = np.where(std > 0, std, 1.0)[:, :, None]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean_) / scale_`` as float32; ``x`` shape (n, C, M, T) or (C, M, T)."""
        if not hasattr(self, "mean_"):
            raise NotFittedError("Standardizer is not fitted: call fit(x) on training windows")
        if x.shape[-3:-1] != self.mean_.shape[:2]:
            raise DataError(f"x must have (channels, n_mels) = {self.mean_.shape[:2]}, "
                            f"got {x.shape[-3:-1]}")  # fmt: skip
        return ((x - self.mean_) / self.scale_).astype(np.float32)

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (for checkpoint metadata)."""
        if not hasattr(self, "mean_"):
            raise NotFittedError("Standardizer is not fitted: call fit(x) on training windows")
        return {"mean": self.mean_[:, :, 0].tolist(), "scale": self.scale_[:, :, 0].tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`to_dict` output."""
        obj = cls()
        obj.mean_ = np.asarray(state["mean"], dtype=np.float64)[:, :, None]
        obj.scale_ = np.asarray(state["scale"], dtype=np.float64)[:, :, None]
        return obj
