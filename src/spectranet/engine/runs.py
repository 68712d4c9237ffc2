"""Run folders and atomic writes.

A run folder holds ``config.json``, the split, ``metrics.json``, ``report.md``, ``figures/*.png``,
``checkpoint.pt`` and ``run.log``. Every file is written to a temporary name beside its target
and moved into place with :func:`os.replace`, so an interrupted run never leaves a half-written
file; ``metrics.json`` is written last and marks a finished run.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from spectranet.errors import DataError, DataNotFoundError

__all__ = [
    "RunDir",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "save_npy",
    "save_figure",
    "read_json",
    "check_within",
]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *,
                       durable: bool = True, within: str | os.PathLike[str] | None = None) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    ``durable`` also flushes the file to disk (fsync) before the rename; caches whose entries
    can be recomputed skip it. The file gets the permissions of a plain ``open`` (0666 less the
    user's umask), not the temporary file's 0600. With ``within`` (a run folder), ``path``
    must lie inside it once symbolic links are resolved (:func:`check_within`).
    """
    path = Path(path)
    if within is not None:
        check_within(path, within)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> Path:
    """Refuse a ``path`` that is a symbolic link or, links resolved, leaves ``folder``.

    Raises
    ------
    DataError
        Naming the path and where it leads.
    """
    path = Path(path)
    root = os.path.realpath(folder)
    real = os.path.realpath(path.parent) if not path.is_symlink() else None
    if real is None or os.path.commonpath([root, real]) != root:
        target = os.readlink(path) if path.is_symlink() else real
        raise DataError(f"{path}: leads out of {folder} through a symbolic link (to {target}); "
                        "spectranet does not write through links: remove it or use another "
                        "folder")
    return path


def _umask() -> int:
    """The process's umask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str, *,
                      durable: bool = True) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically; NaN is written as ``null``."""
    text = json.dumps(_nan_to_none(obj), indent=2, default=_json_default, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file.

    Raises
    ------
    DataNotFoundError
        No such file.
    DataError
        Not UTF-8 JSON (one line naming the file and where it breaks).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise DataError(f"{path}: not valid JSON ({err})") from None


def save_npy(path: str | os.PathLike[str], array: np.ndarray, *, durable: bool = True) -> Path:
    """Save ``array`` as ``.npy`` atomically."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buf.getvalue(), durable=durable)


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


class _NoFollowHandler(logging.FileHandler):
    """A log file opened with ``O_NOFOLLOW``: a ``run.log`` that is a link is not appended to."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                     0o666)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115


class RunDir:
    """A run's output folder.

    Every file is written inside it: a path that a symbolic link leads out of the folder (or
    of ``root``) is refused, and so is a ``run.log`` that is a link.

    Parameters
    ----------
    path : path-like
        Folder to create (parents included); an existing folder is reused, which is how an
        interrupted run resumes.
    root : path-like, optional
        The folder no write may leave (a unit's run folder); default ``path``.

    Attributes
    ----------
    path : Path
    figures : Path
        ``path / "figures"``.
    logger : logging.Logger
        Writes to ``path / "run.log"``.
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 root: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        self.root = Path(root) if root is not None else self.path
        if root is not None:
            check_within(self.path / "run.log", root)
        self.path.mkdir(parents=True, exist_ok=True)
        self.logger = logging.getLogger(f"spectranet.run.{self.path.resolve()}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        if not self.logger.handlers:
            try:
                handler = _NoFollowHandler(self.path / "run.log", encoding="utf-8")
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                raise DataError(f"{self.path / 'run.log'}: a symbolic link (to "
                                f"{os.readlink(self.path / 'run.log')}); spectranet does not "
                                "write through links: remove it") from None
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.logger.addHandler(handler)
        self.figures = self.path / "figures"
        try:
            check_within(self.figures / "x", self.root)
        except DataError:
            self.close()
            raise
        self.figures.mkdir(exist_ok=True)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def log(self, message: str) -> None:
        """Append a line to ``run.log``."""
        self.logger.info(message)

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` to ``name`` inside the run folder, atomically."""
        return atomic_write_json(check_within(self.path / name, self.root), obj)

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` to ``name`` inside the run folder, atomically."""
        return atomic_write_bytes(self.path / name, data, within=self.root)

    def save_npy(self, name: str, array: np.ndarray) -> Path:
        """Save ``array`` as ``name`` (``.npy``) inside the run folder, atomically."""
        return save_npy(check_within(self.path / name, self.root), array)

    def read_json(self, name: str) -> Any:
        """Read ``name`` from the run folder."""
        return read_json(self.path / name)

    def write_text(self, name: str, text: str) -> Path:
        """Write text to ``name`` inside the run folder, atomically."""
        return atomic_write_text(check_within(self.path / name, self.root), text)

    def save_figure(self, fig: Any, name: str, *, dpi: int = 110) -> Path:
        """Save ``fig`` as ``figures/<name>.png``."""
        return save_figure(fig, check_within(self.figures / f"{name}.png", self.root), dpi=dpi)

    def is_complete(self) -> bool:
        """Whether the run finished (its ``metrics.json`` exists)."""
        return (self.path / "metrics.json").is_file()

    def close(self) -> None:
        """Release the log file."""
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)
