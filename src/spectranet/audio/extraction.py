"""Feature windows of many clips: parallel extraction, the content-addressed cache, skipping.

:func:`extract_features` turns a :class:`~spectranet.audio.datasets.ClipTable` into a
:class:`WindowTable` with :func:`spectranet.audio.features.clip_features` per clip, in worker
processes when asked, reading and filling :class:`~spectranet.audio.cache.FeatureCache`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from threadpoolctl import threadpool_limits

from spectranet.audio.cache import CachedWindows, FeatureCache
from spectranet.audio.datasets import ClipRecord, ClipTable
from spectranet.audio.decoding import check_wav_length, decode_audio
from spectranet.audio.features import FeatureSettings, clip_features, silent_windows
from spectranet.engine.workers import exit_with_parent
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = ["FeatureCache", "WindowTable", "extract_features"]


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
    digests : tuple of (int, str)
        ``(clip_id, sha256 of the file's bytes)`` of every extracted clip, in clip order.
    """

    x: np.ndarray
    clip_ids: np.ndarray
    silent: np.ndarray
    settings: FeatureSettings
    skipped: tuple[tuple[str, str], ...] = ()
    cache_hits: int = 0
    seconds: float = 0.0
    digests: tuple[tuple[int, str], ...] = ()

    def __len__(self) -> int:
        return len(self.x)

    def content_fingerprint(self, clips: ClipTable) -> str:
        """sha256 over every extracted clip's content sha256, class name and fold, in order.

        Unlike :meth:`ClipTable.fingerprint` (names and sizes), it changes when a clip's
        samples change and its size does not; the hashes are those the feature cache keeps.
        """
        from spectranet.engine.identity import fingerprint_records

        return fingerprint_records((digest, clips.class_names[clips[cid].label], clips[cid].fold)
                                   for cid, digest in self.digests)

    def check_no_copies_across_folds(self, clips: ClipTable) -> None:
        """Refuse the same audio content in two folds, however its files are named.

        Raises
        ------
        DataError
            Naming both files, their folds and the shared content hash: such a recording
            would train and test on itself.
        """
        first: dict[str, ClipRecord] = {}
        for cid, digest in self.digests:
            record = clips[cid]
            other = first.setdefault(digest, record)
            if other.fold != record.fold:
                raise DataError(f"{clips.source}: {other.name} (fold {other.fold}) and "
                                f"{record.name} (fold {record.fold}) hold the same audio "
                                f"(sha256 {digest[:12]}...): a recording in two folds trains "
                                "and tests on itself; remove one")

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
        check_wav_length(data, name=str(path))  # a cut file may have been cached before
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
    xs, ids, kept, skipped, hits, new_entries, digests = [], [], [], [], 0, {}, []
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
            digests.append((record.clip_id, digest))
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
        seconds=time.perf_counter() - start, digests=tuple(digests),
    )  # fmt: skip
