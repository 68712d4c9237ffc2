"""Time shift and masking of log-mel + delta windows (``--augment``; not in Chen et al. 2019)."""

from __future__ import annotations

import numpy as np

from spectranet.errors import ConfigError

__all__ = ["SpecAugment"]


class SpecAugment:
    """Random circular time shift plus one time mask and one frequency mask per window.

    Parameters
    ----------
    max_time_mask : int >= 0, frames, default 6
        Width of the time mask, drawn uniformly in [0, max_time_mask].
    max_freq_mask : int >= 0, mel bands, default 8
        Height of the frequency mask, drawn uniformly in [0, max_freq_mask].
    shift : bool, default True
        Roll each window by a random number of frames along time.

    Notes
    -----
    Masked cells are set to 0, the mean after standardisation; apply after the Standardizer.
    Called as ``augment(x_batch, generator)`` with ``x_batch`` of shape (n, C, M, T).
    """

    def __init__(self, *, max_time_mask: int = 6, max_freq_mask: int = 8, shift: bool = True):
        for name, value in (("max_time_mask", max_time_mask), ("max_freq_mask", max_freq_mask)):
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
        self.max_time_mask, self.max_freq_mask, self.shift = max_time_mask, max_freq_mask, shift

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augmented copy of ``x`` (n, C, M, T)."""
        n, _, m, t = x.shape
        out = np.array(x, dtype=np.float32, copy=True)
        if self.shift:
            shifts = rng.integers(0, t, n)
            cols = (np.arange(t)[None, :] - shifts[:, None]) % t
            out = np.take_along_axis(out, cols[:, None, None, :], axis=3)
        frame = np.arange(t)[None, :]
        band = np.arange(m)[None, :]
        tw = rng.integers(0, self.max_time_mask + 1, n)[:, None]
        t0 = rng.integers(0, t, n)[:, None]
        fw = rng.integers(0, self.max_freq_mask + 1, n)[:, None]
        f0 = rng.integers(0, m, n)[:, None]
        time_mask = (frame >= t0) & (frame < t0 + tw)  # (n, T)
        freq_mask = (band >= f0) & (band < f0 + fw)  # (n, M)
        out[np.broadcast_to(time_mask[:, None, None, :], out.shape)] = 0.0
        out[np.broadcast_to(freq_mask[:, None, :, None], out.shape)] = 0.0
        return out
