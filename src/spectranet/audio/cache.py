"""On-disk cache of per-clip feature windows, keyed by the settings and the audio content.

Used by :func:`spectranet.audio.extraction.extract_features`; a warm run reads every clip's
windows straight into the output array (``benchmarks/bench_features.py``).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import librosa
import numpy as np

from spectranet.audio.features import FeatureSettings
from spectranet.engine.runs import atomic_write_text, save_npy

__all__ = ["FeatureCache", "CachedWindows"]


#: Header of a .npy 1.0 file holding a C-order little-endian float32 array (as ``save`` writes).
_NPY_HEADER = re.compile(
    rb"\x93NUMPY\x01\x00..\{'descr': '<f4', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \}"
    rb" *\n", re.DOTALL)
_HEAD_BYTES = 256  # np.save pads format 1.0 headers to 64-byte multiples: 128 for ours


class FeatureCache:
    """Per-clip window features on disk, keyed by settings + library versions + file content.

    Layout: ``folder/<settings key[:16]>/<sha256 of the audio file bytes>.npy`` plus a
    ``settings.json`` per key for humans. Writes go to a temporary file, then ``os.replace``.
    Pass ``cache=None`` to :func:`extract_features` to switch caching off.

    ``folder/files.json`` indexes ``absolute path -> [size, mtime_ns, sha256]`` so that
    unchanged files are not read and hashed again on a warm run. It only saves the hashing:
    entries stay keyed by content, and a file whose size or modification time (ns) changed is
    hashed again. Deleting the index is always safe.
    """

    INDEX = "files.json"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._dirs: dict[FeatureSettings, str] = {}

    def _file(self, settings: FeatureSettings, content_sha256: str) -> str:
        # settings are frozen: hash them once; plain strings (pathlib costs show on warm runs)
        if settings not in self._dirs:
            self._dirs[settings] = os.path.join(self.folder, settings.key()[:16])
        return os.path.join(self._dirs[settings], f"{content_sha256}.npy")

    def path(self, settings: FeatureSettings, content_sha256: str) -> Path:
        """File that holds (or will hold) the features of one audio content."""
        return Path(self._file(settings, content_sha256))

    def load(self, settings: FeatureSettings, content_sha256: str) -> np.ndarray | None:
        """Return the cached array, or None on a miss (or an unreadable entry)."""
        try:
            with open(self._file(settings, content_sha256), "rb") as fh:
                data = bytearray(os.fstat(fh.fileno()).st_size)  # writable result
                fh.readinto(data)
        except OSError:
            return None
        # np.load's general path (header through ast.literal_eval) costs more than reading
        # these small files; ours are little-endian float32, C order, .npy format 1.0.
        match = _NPY_HEADER.match(data)
        if match is None:
            try:
                return np.load(io.BytesIO(bytes(data)), allow_pickle=False)
            except (OSError, ValueError):
                return None
        shape = tuple(int(v) for v in match.group(1).split(b",") if v.strip())
        if len(data) - match.end() != 4 * math.prod(shape):  # truncated or padded entry
            return None
        return np.frombuffer(data, dtype="<f4", offset=match.end()).reshape(shape)

    def save(self, settings: FeatureSettings, content_sha256: str, x: np.ndarray) -> Path:
        """Store ``x`` atomically; returns its path."""
        target = self.path(settings, content_sha256)
        info = target.parent / "settings.json"
        if not info.exists():
            text = json.dumps({"settings": settings.to_dict(), "librosa": librosa.__version__,
                               "numpy": np.__version__}, indent=2)  # fmt: skip
            atomic_write_text(info, text, durable=False)
        save_npy(target, np.ascontiguousarray(x, dtype=np.float32), durable=False)
        return target

    def load_index(self) -> dict[str, list[Any]]:
        """Return the file index ``{absolute path: [size, mtime_ns, sha256]}`` ({} if none)."""
        try:
            index = json.loads((self.folder / self.INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return index if isinstance(index, dict) else {}

    def update_index(self, entries: dict[str, list[Any]]) -> None:
        """Merge ``entries`` into the on-disk index, atomically.

        Concurrent runs may drop each other's entries, which only costs a re-hash.
        """
        if entries:
            atomic_write_text(self.folder / self.INDEX, json.dumps(self.load_index() | entries),
                              durable=False)

    def _lookup(
        self, settings: FeatureSettings, index: dict[str, list[Any]], path: Path
    ) -> tuple[list[int] | None, tuple[str, np.ndarray | CachedWindows] | None]:
        """``(stamp, (sha256, features) or None)`` of ``path`` without reading its bytes.

        ``stamp`` = ``[size, mtime_ns]`` (None when the file cannot be stat'ed); the second item
        is set when the index holds this stamp and the features of that content are cached:
        a :class:`CachedWindows` handle (only the header read; the caller reads the data
        straight into its output) or, for entries in another .npy layout, the loaded array.
        """
        try:
            st = path.stat()
        except OSError:
            return None, None
        stamp = [st.st_size, st.st_mtime_ns]
        entry = index.get(os.path.abspath(path))
        if not (isinstance(entry, list) and len(entry) == 3 and entry[:2] == stamp):
            return stamp, None
        digest = str(entry[2])
        name = self._file(settings, digest)
        try:
            with open(name, "rb") as fh:
                head = fh.read(_HEAD_BYTES)
        except OSError:
            return stamp, None
        match = _NPY_HEADER.match(head)
        if match is not None:
            shape = tuple(int(v) for v in match.group(1).split(b",") if v.strip())
            if len(shape) == 4 and shape[1:] == (2, settings.n_mels, settings.frames):
                return stamp, (digest, CachedWindows(name, shape[0], match.end()))
        x = self.load(settings, digest)
        return stamp, None if x is None else (digest, x)


@dataclass(frozen=True)
class CachedWindows:
    """A cached entry whose data are read later straight into the output array."""

    file: str
    n: int
    offset: int

    def __len__(self) -> int:
        return self.n

    def read_into(self, out: np.ndarray) -> bool:
        """Fill C-contiguous float32 ``out`` from the file; False if it is gone or short."""
        try:
            with open(self.file, "rb") as fh:
                fh.seek(self.offset)
                got = fh.readinto(memoryview(out).cast("B"))
                return got == out.nbytes and fh.read(1) == b""
        except OSError:
            return False
