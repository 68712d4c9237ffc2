"""Log-mel + delta features and fixed windows (cache: :mod:`.cache`, scaling: :mod:`.scaling`).

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
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import librosa
import numpy as np
from threadpoolctl import threadpool_limits

from spectranet.audio.cache import CachedWindows, FeatureCache
from spectranet.audio.datasets import ClipRecord, ClipTable
from spectranet.audio.decoding import decode_audio
from spectranet.engine.workers import exit_with_parent
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = [
    "FeatureCache",
    "FeatureSettings",
    "WindowTable",
    "clip_features",
    "deltas",
    "extract_features",
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


@dataclass(frozen=True)
class WindowTable:
    """Windows of many clips (per-clip label and fold stay in the ClipTable).

    Attributes
    ----------
    x : ndarray, shape (n_windows, 2, n_mels, frames), float32
    clip_ids : ndarray, shape (n_windows,), int64
        ``ClipRecord.clip_id`` of each window.
    silent : ndarray, shape (n_windows,), bool
        Drop these from training only; every test window is scored.
    settings : FeatureSettings
    skipped : tuple of (str, str)
        ``(path, reason)`` of clips skipped with ``on_error="skip"``.
    cache_hits : int
    seconds : float
        Wall time of the extraction.
    """

    x: np.ndarray
    clip_ids: np.ndarray
    silent: np.ndarray
    settings: FeatureSettings
    skipped: tuple[tuple[str, str], ...] = ()
    cache_hits: int = 0
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.x)

    def windows_of(self, clip_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Return the indices of the windows belonging to ``clip_ids``."""
        return np.flatnonzero(np.isin(self.clip_ids, np.asarray(clip_ids)))

    def middle_windows(self, clip_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Index of the middle window (the later of two) of each clip in ``clip_ids`` that has one.

        Returns the indices in increasing order, one per clip.
        """
        rows = self.windows_of(clip_ids)
        ids = self.clip_ids[rows]
        order = np.argsort(ids, kind="stable")  # windows of a clip keep their time order
        rows, ids = rows[order], ids[order]
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        return np.sort(rows[first + counts // 2])


def _init_worker() -> None:
    global _WORKER_LIMITS
    exit_with_parent()
    _WORKER_LIMITS = threadpool_limits(limits=1, user_api="blas")


_WORKER_LIMITS: Any = None


def _clip_job(
    path: Path, settings: FeatureSettings, cache_folder: str | None
) -> tuple[np.ndarray | None, tuple[str, str] | None, bool, str | None]:
    """Features of one file: (x, (error kind, message), cache hit, content sha256).

    Runs in worker processes too.
    """
    try:
        if not path.is_file():
            raise DataNotFoundError(f"audio file not found: {path}")
        data = path.read_bytes()
        cache = FeatureCache(cache_folder) if cache_folder else None
        digest = hashlib.sha256(data).hexdigest()
        if cache is not None and (hit := cache.load(settings, digest)) is not None:
            return hit, None, True, digest
        y = decode_audio(data, name=str(path), sr=settings.sr, mono=True)
        x = clip_features(y, settings=settings)
        if cache is not None:
            cache.save(settings, digest, x)
        return x, None, False, digest
    except (DataError, DataNotFoundError) as err:
        return None, (type(err).__name__, str(err)), False, None


def extract_features(
    clips: ClipTable | Sequence[ClipRecord],
    settings: FeatureSettings | None = None,
    *,
    cache: FeatureCache | str | os.PathLike[str] | None = None,
    jobs: int = 1,
    progress: bool = True,
    on_error: Literal["raise", "skip"] = "raise",
) -> WindowTable:
    """Decode every clip and compute its windows, reusing the cache where possible.

    Parameters
    ----------
    clips : ClipTable or sequence of ClipRecord
    settings : FeatureSettings, optional
        Defaults to ``FeatureSettings()``.
    cache : FeatureCache or path, optional
        None (default) disables caching; a hit neither decodes nor transforms, and a file
        unchanged since it was last indexed (same size and mtime_ns) is not even read.
    jobs : int >= 1, default 1
        Worker processes (``ProcessPoolExecutor``, platform default start method) for
        decoding and transforms; 1 runs in this process. Each process uses one BLAS thread.
    progress : bool, default True
        A progress bar on a terminal (none in a log file).
    on_error : {"raise", "skip"}, default "raise"
        Missing, empty or undecodable files raise, or are skipped and listed in
        ``WindowTable.skipped``.

    Returns
    -------
    WindowTable
        Windows in clip order, ``clip_ids`` from the records.
    """
    s = FeatureSettings() if settings is None else settings
    if not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if cache is not None and not isinstance(cache, FeatureCache):
        cache = FeatureCache(cache)
    records = list(clips.records if isinstance(clips, ClipTable) else clips)
    folder = None if cache is None else str(cache.folder)
    start = time.perf_counter()
    from spectranet.engine.progress import bar as progress_bar

    paths = [Path(r.path) for r in records]
    # Warm path in this process: files whose (size, mtime_ns) the index knows and whose
    # features are cached are neither read, hashed nor sent to a worker.
    index = cache.load_index() if cache is not None else {}
    stamps: list[list[int] | None] = [None] * len(paths)
    done: dict[int, tuple[np.ndarray | None, tuple[str, str] | None, bool, str | None]] = {}
    if cache is not None:
        for i, p in enumerate(paths):
            stamps[i], found = cache._lookup(s, index, p)
            if found is not None:
                done[i] = (found[1], None, True, found[0])
    todo = [i for i in range(len(paths)) if i not in done]
    # One BLAS thread per process: the mel projection is a tiny matmul that a multi-threaded
    # OpenBLAS slows down ten-fold on a busy machine; parallelism comes from ``jobs``.
    limits = threadpool_limits(limits=1, user_api="blas") if todo else None  # ~3 ms
    pool = None
    xs, ids, kept, skipped, hits, new_entries = [], [], [], [], 0, {}
    try:
        if jobs == 1 or len(todo) < 2:
            computed: Any = (_clip_job(paths[i], s, folder) for i in todo)
        else:
            pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker)
            n = len(todo)
            computed = pool.map(_clip_job, [paths[i] for i in todo], [s] * n, [folder] * n,
                                chunksize=4)
        results = (done[i] if i in done else next(computed) for i in range(len(paths)))
        bar = progress_bar(results, total=len(paths), enabled=progress, desc="features",
                           unit="clip")
        for i, (record, (x, error, hit, digest)) in enumerate(zip(records, bar, strict=True)):
            if error is not None:
                kind, message = error
                if on_error == "raise":
                    raise (DataNotFoundError if kind == "DataNotFoundError" else DataError)(message)
                skipped.append((str(record.path), message))
                continue
            stamp = stamps[i]
            if i not in done and digest is not None and stamp is not None:
                new_entries[os.path.abspath(paths[i])] = [*stamp, digest]
            hits += hit
            xs.append(x)
            kept.append(record)
            ids.append(np.full(len(x), record.clip_id, dtype=np.int64))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if limits is not None:
            limits.restore_original_limits()
        if cache is not None:
            cache.update_index(new_entries)
    # one output array; warm entries are read straight into it (no per-clip copy)
    x_all = np.empty((sum(len(x) for x in xs), 2, s.n_mels, s.frames), dtype=np.float32)
    pos = 0
    for record, x in zip(kept, xs, strict=True):
        part = x_all[pos:pos + len(x)]
        if not isinstance(x, CachedWindows):
            part[...] = x
        elif not x.read_into(part):  # entry removed or rewritten meanwhile: compute it again
            with threadpool_limits(limits=1, user_api="blas"):  # as computed the first time
                again, error, _, _ = _clip_job(Path(record.path), s, None)
            if error is not None or again is None or again.shape != part.shape:
                raise DataError(f"{record.path}: cached features vanished and cannot be "
                                f"recomputed ({error})")
            part[...] = again
        pos += len(x)
    clip_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    return WindowTable(
        x=x_all, clip_ids=clip_ids, silent=silent_windows(x_all, silence_db=s.silence_db),
        settings=s, skipped=tuple(skipped), cache_hits=hits,
        seconds=time.perf_counter() - start,
    )  # fmt: skip
