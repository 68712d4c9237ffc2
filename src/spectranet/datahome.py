"""Where datasets live, and how they are fetched and checked (both domains).

The data home is ``$SPECTRANET_DATA`` or, by default, a per-user cache folder
(``$XDG_CACHE_HOME/spectranet``, else ``~/.cache/spectranet``), laid out as
``audio/<dataset>/...`` and ``hsi/<scene>/...``. Downloads go to a temporary file beside the
target, are checked against their sha256 and only then moved into place atomically, so an
interrupted or corrupted transfer never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from spectranet.errors import ChecksumError, ConfigError, DataNotFoundError

__all__ = ["RemoteFile", "data_home", "sha256sum", "download", "verify_file"]

_CHUNK = 1 << 20  # bytes read or written at a time
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a public dataset: where it comes from and how to check it.

    Attributes
    ----------
    filename : str
        File name inside the dataset folder, e.g. ``"PaviaU.mat"``.
    url : str or None
        Official download address; None when the file cannot be downloaded automatically.
    sha256 : str or None
        Canonical sha256 (64 lower-case hex digits); None when no canonical sum is known, in
        which case the file is reported as unverified.
    size : int or None
        Size in bytes, if known.
    """

    filename: str
    url: str | None
    sha256: str | None
    size: int | None = None


def data_home(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the data root folder.

    Parameters
    ----------
    root : path-like, optional
        An explicit root (``~`` expanded); it wins over everything below.

    Returns
    -------
    pathlib.Path
        ``root`` if given, else ``$SPECTRANET_DATA`` if set and non-empty, else
        ``$XDG_CACHE_HOME/spectranet``, else ``~/.cache/spectranet``. Not created here.

    Examples
    --------
    >>> root = data_home()
    >>> (root / "hsi" / "indian_pines").name
    'indian_pines'
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("SPECTRANET_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "spectranet"


def sha256sum(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a file as 64 lower-case hex digits.

    Parameters
    ----------
    path : path-like
        File to hash; read in 1 MiB chunks, so any size works.

    Returns
    -------
    str
        Hex digest.

    Raises
    ------
    DataNotFoundError
        If ``path`` is not an existing file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"cannot hash {path}: no such file")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256_arg(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    value = sha256.strip().lower()
    if not _SHA256_RE.match(value):
        raise ConfigError(f"sha256 must be 64 hex digits, got {sha256!r}")
    return value


def verify_file(path: str | os.PathLike[str], sha256: str) -> str:
    """Check that a file exists and has the expected sha256.

    Parameters
    ----------
    path : path-like
        File to check.
    sha256 : str
        Expected sum, 64 hex digits (case-insensitive).

    Returns
    -------
    str
        The actual sum (equal to ``sha256``).

    Raises
    ------
    ConfigError
        If ``sha256`` is not 64 hex digits.
    DataNotFoundError
        If the file is missing.
    ChecksumError
        If the sums differ; the message names the file, the expected and the actual sum.
    """
    expected = _check_sha256_arg(sha256)
    actual = sha256sum(path)
    if actual != expected:
        raise ChecksumError(f"{path}: sha256 mismatch, expected {expected}, got {actual}")
    return actual


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` atomically, checking its sha256.

    The data are written to a temporary file in ``dest``'s folder and hashed on the fly; only
    if the sum matches is the temporary file moved onto ``dest`` with :func:`os.replace`.
    On any failure the temporary file is deleted and ``dest`` is left untouched.

    Parameters
    ----------
    url : str
        Address to fetch (``https://``, ``http://`` or ``file://``).
    dest : path-like
        Target file; missing parent folders are created.
    sha256 : str or None, default None
        Expected sum (64 hex digits); None skips the check.
    progress : bool, default True
        Show a progress bar on stderr.
    timeout : float > 0, seconds, default 60
        Network timeout for connecting and for each read.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ConfigError
        If ``sha256`` is malformed or ``timeout`` is not positive.
    DataNotFoundError
        If the address cannot be fetched (HTTP error, no network, missing local file).
    ChecksumError
        If the downloaded data's sum differs from ``sha256``.
    """
    expected = _check_sha256_arg(sha256)
    if not timeout > 0:
        raise ConfigError(f"timeout must be > 0 seconds, got {timeout}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _fetch(url, out, progress=progress, timeout=timeout, label=dest.name)
        if expected is not None and actual != expected:
            raise ChecksumError(
                f"{dest.name} downloaded from {url}: sha256 mismatch, "
                f"expected {expected}, got {actual}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _fetch(url: str, out: BinaryIO, *, progress: bool, timeout: float, label: str) -> str:
    """Stream ``url`` into the open binary file ``out``; return the sha256 of what was written."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=label, disable=not progress
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise DataNotFoundError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataNotFoundError(f"cannot download {url}: {reason}") from exc
    return digest.hexdigest()
