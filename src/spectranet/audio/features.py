"""Log-mel + delta features and fixed windows of one clip, as pure functions.

Many clips, worker processes and the cache: :mod:`.extraction`; scaling: :mod:`.scaling`.

Pinned librosa 0.11 settings (passed explicitly, so a librosa default change cannot alter them):
``melspectrogram(n_fft=1024, hop_length=512, win_length=1024, window="hann", center=True,
pad_mode="constant", power=2.0, n_mels=64, fmin=0, fmax=sr/2, htk=False, norm="slaney")``
(Slaney mel scale, Slaney area normalisation), then ``power_to_db(ref=1.0, amin=1e-10,
top_db=80)`` -- the same as ``librosa.logamplitude`` that Piczak's (2015) pipeline used -- and
``delta(width=9, order=1, mode="interp", axis=-1)`` computed over the whole clip before
windowing. Windows are 41 frames (~0.95 s at 22,050 Hz, hop 512) with 50 % overlap, i.e. a hop
of ``floor(41 * 0.5) = 20`` frames: window k covers frames ``[20k, 20k + 41)``; trailing frames
that do not fill a window are dropped, as in Piczak (2015) and Salamon & Bello (2017).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import librosa
import numpy as np

from spectranet.errors import ConfigError, DataError

__all__ = [
    "FeatureSettings",
    "clip_features",
    "deltas",
    "log_mel",
    "segment",
    "silent_windows",
    "window_hop",
]

Pad = Literal["repeat", "zeros"]


def log_mel(
    y: np.ndarray,
    *,
    sr: int = 22050,
    n_fft: int = 1024,
    hop_length: int = 512,
    n_mels: int = 64,
    fmin: float = 0.0,
    fmax: float | None = None,
    ref: float = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """Log-mel spectrogram in dB, computed exactly as librosa computes it.

    Parameters
    ----------
    y : ndarray, shape (samples,), float
        Mono audio.
    sr : int > 0, Hz, default 22050
    n_fft : int > 0, samples, default 1024
        FFT and Hann window length.
    hop_length : int > 0, samples, default 512
    n_mels : int > 0, default 64
    fmin, fmax : float, Hz, default 0 and sr / 2
    ref, amin, top_db : float
        ``librosa.power_to_db`` arguments; ``ref=1.0`` gives absolute dB (full-scale sine
        ~ +40 dB), ``top_db=80`` clips each clip at its maximum minus 80 dB.

    Returns
    -------
    ndarray, shape (n_mels, 1 + samples // hop_length), float32
    """
    if y.ndim != 1 or y.size == 0:
        raise DataError(f"y must be a non-empty 1-D audio array, got shape {y.shape}")
    mel = librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float32), sr=sr, n_fft=n_fft, hop_length=hop_length,
        win_length=n_fft, window="hann", center=True, pad_mode="constant", power=2.0,
        n_mels=n_mels, fmin=fmin, fmax=sr / 2 if fmax is None else fmax, htk=False,
        norm="slaney",
    )  # fmt: skip
    return librosa.power_to_db(mel, ref=ref, amin=amin, top_db=top_db).astype(np.float32)


def deltas(
    logmel: np.ndarray, *, width: int = 9, order: int = 1, mode: str = "interp"
) -> np.ndarray:
    """Delta features along time (``librosa.feature.delta``, settings pinned).

    Parameters
    ----------
    logmel : ndarray, shape (..., frames)
        Needs at least ``width`` frames in ``mode="interp"``.
    width : odd int >= 3, frames, default 9
    order : int >= 1, default 1
    mode : str, default "interp"

    Returns
    -------
    ndarray, same shape as ``logmel``, float32
    """
    if width < 3 or width % 2 == 0:
        raise ConfigError(f"width must be an odd integer >= 3, got {width}")
    if mode == "interp" and logmel.shape[-1] < width:
        raise DataError(f"logmel must have at least width={width} frames, got {logmel.shape[-1]}")
    out = librosa.feature.delta(logmel, width=width, order=order, axis=-1, mode=mode)
    return out.astype(np.float32)


def window_hop(frames: int, overlap: float) -> int:
    """Window hop in frames: ``max(1, floor(frames * (1 - overlap)))`` (20 for 41 at 0.5)."""
    if frames < 1:
        raise ConfigError(f"frames must be a positive integer, got {frames}")
    if not 0.0 <= overlap < 1.0:
        raise ConfigError(f"overlap must be in [0, 1), got {overlap}")
    return max(1, int(frames * (1.0 - overlap)))


def segment(
    features: np.ndarray, *, frames: int = 41, overlap: float = 0.5, pad: Pad = "repeat"
) -> np.ndarray:
    """Cut features into fixed windows along the last (time) axis, as a view.

    Parameters
    ----------
    features : ndarray, shape (..., T)
        E.g. (2, n_mels, T) log-mel + deltas.
    frames : int > 0, frames, default 41
        Window length.
    overlap : float in [0, 1), default 0.5
        Hop = ``max(1, floor(frames * (1 - overlap)))`` frames (20 for 41 at 0.5); window k
        starts at frame k * hop; ``n_windows = 1 + (T - frames) // hop``.
    pad : {"repeat", "zeros"}, default "repeat"
        A feature array shorter than one window is padded to exactly one window by tiling it
        ("repeat") or with zeros, so every clip gets scored (this path copies).

    Returns
    -------
    ndarray, shape (n_windows, ..., frames)
        A strided read-only view of ``features`` when T >= frames.
    """
    hop = window_hop(frames, overlap)
    if pad not in ("repeat", "zeros"):
        raise ConfigError(f"pad must be 'repeat' or 'zeros', got {pad!r}")
    if features.ndim < 1 or features.shape[-1] == 0:
        raise DataError(f"features must have a non-empty last (time) axis, got {features.shape}")
    if features.shape[-1] < frames:
        width = [(0, 0)] * (features.ndim - 1) + [(0, frames - features.shape[-1])]
        features = np.pad(features, width, mode="wrap" if pad == "repeat" else "constant")
    view = librosa.util.frame(features, frame_length=frames, hop_length=hop, axis=-1)
    return np.moveaxis(view, -1, 0)


@dataclass(frozen=True)
class FeatureSettings:
    """Every value that determines the features; also the feature-cache key.

    Defaults follow Chen et al. (2019) / Piczak (2015): 22,050 Hz mono, 1024-point FFT, hop
    512, 64 Slaney mel bands, absolute dB (``ref=1.0``, ``top_db=80``), deltas (width 9,
    ``interp``), 41-frame windows with 50 % overlap. ``silence_db``: a window whose log-mel
    maximum is below it (dB re 1.0) is flagged silent (drop from training only); None flags none.
    ``pad``: clips shorter than one window are loop-padded in the waveform ("repeat", like the
    shared UrbanSound8K copy's uploader did) or zero-padded ("zeros") to exactly one window.
    """

    sr: int = 22050
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float | None = None
    ref: float = 1.0
    amin: float = 1e-10
    top_db: float | None = 80.0
    delta_width: int = 9
    delta_order: int = 1
    delta_mode: str = "interp"
    frames: int = 41
    overlap: float = 0.5
    pad: Pad = "repeat"
    silence_db: float | None = -60.0

    def __post_init__(self) -> None:
        for name in ("sr", "n_fft", "hop_length", "n_mels", "frames"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.frames < self.delta_width:
            raise ConfigError(f"frames must be >= delta_width={self.delta_width}, "
                              f"got {self.frames}")  # fmt: skip
        if self.delta_width < 3 or self.delta_width % 2 == 0:
            raise ConfigError(f"delta_width must be an odd integer >= 3, got {self.delta_width}")
        if self.pad not in ("repeat", "zeros"):
            raise ConfigError(f"pad must be 'repeat' or 'zeros', got {self.pad!r}")
        window_hop(self.frames, self.overlap)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (JSON-ready)."""
        return dataclasses.asdict(self)

    def window_times(self, n_windows: int) -> tuple[np.ndarray, np.ndarray]:
        """Start and end of a clip's first ``n_windows`` windows, seconds (two (n,) arrays)."""
        hop = window_hop(self.frames, self.overlap) * self.hop_length  # samples
        starts = np.arange(n_windows) * hop / self.sr
        return starts, starts + (self.frames - 1) * self.hop_length / self.sr

    def export_fields(self) -> dict[str, Any]:
        """The settings as an exported model's sidecar gives them (its ``preprocessing``).

        Decoding, the short-clip rule, every argument of librosa's ``melspectrogram``,
        ``power_to_db`` and ``delta``, and the windows, as numbers and rules that a reader
        without spectranet can follow (``docs/export.md``).
        """
        return {
            "decode": "mono (mean of the channels), resampled to sr with soxr_hq: "
                      "librosa.load(path, sr=sr, mono=True, res_type='soxr_hq')",
            "pad": self.pad,
            "min_samples": (self.frames - 1) * self.hop_length,
            "pad_rule": "a clip shorter than min_samples is first tiled (pad='repeat', "
                        "numpy.resize) or zero-padded (pad='zeros') to min_samples",
            "sr": self.sr, "n_fft": self.n_fft, "win_length": self.n_fft,
            "hop_length": self.hop_length, "window": "hann", "center": True,
            "pad_mode": "constant", "power": 2.0, "n_mels": self.n_mels, "fmin": self.fmin,
            "fmax": self.sr / 2 if self.fmax is None else self.fmax, "htk": False,
            "norm": "slaney", "ref": self.ref, "amin": self.amin, "top_db": self.top_db,
            "delta_width": self.delta_width, "delta_order": self.delta_order,
            "delta_mode": self.delta_mode, "frames": self.frames, "overlap": self.overlap,
            "window_hop": window_hop(self.frames, self.overlap),
            "windows": "log-mel (librosa.feature.melspectrogram, then power_to_db) and its "
                       "delta over the whole clip, stacked as (2, n_mels, T); window k is "
                       "frames [k * window_hop, k * window_hop + frames); a trailing part "
                       "shorter than a window is dropped",
        }

    def key(self) -> str:
        """sha256 over the settings and the librosa and numpy versions (cache folder name)."""
        blob = json.dumps(
            {"settings": self.to_dict(), "librosa": librosa.__version__, "numpy": np.__version__},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def clip_features(y: np.ndarray, *, settings: FeatureSettings | None = None) -> np.ndarray:
    """Log-mel (channel 0) and deltas (channel 1) of one clip, cut into windows.

    Clips shorter than one window (``(frames - 1) * hop_length`` samples) are first padded in the
    waveform to exactly one window (``settings.pad``), so that deltas are computable and every
    clip yields at least one window.

    Parameters
    ----------
    y : ndarray, shape (samples,), float
        Mono audio at ``settings.sr``.
    settings : FeatureSettings, optional
        Defaults to ``FeatureSettings()``.

    Returns
    -------
    ndarray, shape (n_windows, 2, n_mels, frames), float32, C-contiguous copy
    """
    s = FeatureSettings() if settings is None else settings
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise DataError(f"y must be a non-empty 1-D audio array, got shape {y.shape}")
    need = (s.frames - 1) * s.hop_length
    if y.size < need:
        y = np.resize(y, need) if s.pad == "repeat" else np.pad(y, (0, need - y.size))
    mel = log_mel(y, sr=s.sr, n_fft=s.n_fft, hop_length=s.hop_length, n_mels=s.n_mels,
                  fmin=s.fmin, fmax=s.fmax, ref=s.ref, amin=s.amin, top_db=s.top_db)  # fmt: skip
    d = deltas(mel, width=s.delta_width, order=s.delta_order, mode=s.delta_mode)
    stacked = np.stack([mel, d])
    return np.ascontiguousarray(segment(stacked, frames=s.frames, overlap=s.overlap, pad=s.pad))


def silent_windows(x: np.ndarray, *, silence_db: float | None = -60.0) -> np.ndarray:
    """Boolean mask (n_windows,): log-mel (channel 0) maximum below ``silence_db`` dB."""
    if silence_db is None:
        return np.zeros(len(x), dtype=bool)
    return x[:, 0].max(axis=(1, 2)) < silence_db
