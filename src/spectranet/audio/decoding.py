"""Audio decoding: any format soundfile reads, downmixed and resampled with soxr."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from spectranet.errors import ConfigError, DataError, DataNotFoundError

_BYTESIO = re.compile(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>")

__all__ = ["decode_audio", "load_audio", "resample_audio", "check_wav_length"]


def decode_audio(
    data: bytes, *, name: str = "<bytes>", sr: int | None = 22050, mono: bool = True
) -> np.ndarray:
    """Decode encoded audio bytes with soundfile, downmix and resample.

    Parameters
    ----------
    data : bytes
        Content of an audio file in any format soundfile (libsndfile) reads.
    name : str
        File name used in error messages.
    sr : int > 0 or None, Hz, default 22050
        Target rate; None keeps the file's rate. Resampling uses ``librosa.resample`` with
        ``res_type="soxr_hq"`` (librosa 0.11's default, backed by soxr).
    mono : bool, default True
        Average the channels; otherwise return shape (channels, samples).

    Returns
    -------
    ndarray, float32
        Shape (samples,) when mono, else (channels, samples); values in [-1, 1] for PCM.

    Raises
    ------
    DataError
        Empty, undecodable, without samples, or with NaN/inf.
    """
    if sr is not None and (not isinstance(sr, int | np.integer) or sr <= 0):
        raise ConfigError(f"sr must be a positive integer (Hz) or None, got {sr!r}")
    if len(data) == 0:
        raise DataError(f"{name}: expected audio, got an empty file (0 bytes)")
    check_wav_length(data, name=name)
    try:
        with sf.SoundFile(io.BytesIO(data)) as fh:
            declared, file_sr = fh.frames, fh.samplerate
            y = fh.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        # libsndfile names the stream it read ("<_io.BytesIO object at 0x...>"), not the file
        reason = getattr(err, "error_string", None) or _BYTESIO.sub("the data", str(err))
        raise DataError(f"{name}: cannot decode audio ({reason})") from None
    if 0 < y.shape[0] < declared:
        raise DataError(f"{name}: cut short: {y.shape[0]} of the {declared} samples per "
                        "channel its header declares could be read")
    if y.shape[0] == 0:
        raise DataError(f"{name}: expected at least one sample, got 0")
    if not np.isfinite(y).all():
        raise DataError(f"{name}: expected finite samples, got NaN or inf")
    out = y.mean(axis=1) if mono else y.T
    if sr is not None and sr != file_sr:
        out = resample_audio(out, orig_sr=file_sr, sr=sr)
    return np.ascontiguousarray(out, dtype=np.float32)


def check_wav_length(data: bytes, *, name: str = "<bytes>") -> None:
    """Refuse a RIFF/WAVE file whose ``data`` chunk is shorter than its header declares.

    libsndfile reads such a file without complaint and returns the samples present, so a clip
    cut in half (an interrupted copy) would be used as if whole. Other formats, RF64 and
    streamed WAV (a declared size of 0 or 0xFFFFFFFF) are not checked here.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        File name used in the message.

    Raises
    ------
    DataError
        The ``data`` chunk declares more bytes than the file holds.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if data[pos:pos + 4] == b"data":
            present = len(data) - pos - 8
            if size not in (0, 0xFFFFFFFF) and present < size:
                raise DataError(f"{name}: cut short: its header declares {size} bytes of "
                                f"samples, {present} are present")
            return
        pos += 8 + size + (size & 1)  # chunks are padded to an even size


def resample_audio(y: np.ndarray, *, orig_sr: int, sr: int) -> np.ndarray:
    """Resample audio along its last axis as :func:`decode_audio` does for files.

    Parameters
    ----------
    y : ndarray, shape (..., samples), float
    orig_sr : int > 0, Hz
        Rate of ``y``.
    sr : int > 0, Hz
        Target rate; equal to ``orig_sr`` returns ``y`` unchanged.

    Returns
    -------
    ndarray, shape (..., about samples * sr / orig_sr)
        ``librosa.resample`` with ``res_type="soxr_hq"`` (librosa 0.11's default, backed by
        soxr).
    """
    if sr == orig_sr:
        return y
    import librosa

    return librosa.resample(y, orig_sr=orig_sr, target_sr=sr, res_type="soxr_hq", axis=-1)


def load_audio(
    path: str | os.PathLike[str], *, sr: int | None = 22050, mono: bool = True
) -> np.ndarray:
    """Read one audio file; see :func:`decode_audio` for the decoding rules.

    Raises
    ------
    DataNotFoundError
        If ``path`` does not exist.
    DataError
        If it is empty, undecodable or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"audio file not found: {path}")
    return decode_audio(path.read_bytes(), name=str(path), sr=sr, mono=mono)
