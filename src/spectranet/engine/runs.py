"""Run folders and atomic writes.

A run folder holds ``config.json``, the split, ``metrics.json``, ``report.md``, ``figures/*.png``,
``checkpoint.pt`` and ``run.log``. Every file is written to a temporary name beside its target
and moved into place with :func:`os.replace`, so an interrupted run never leaves a half-written
file; ``metrics.json`` is written last and marks a finished run.
"""

from __future__ import annotations

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
]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *,
                       durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    ``durable`` also flushes the file to disk (fsync) before the rename; caches whose entries
    can be recomputed skip it. The file gets the permissions of a plain ``open`` (0666 less the
    user's umask), not the temporary file's 0600.
    """
    path = Path(path)
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


class RunDir:
    """A run's output folder.

    Parameters
    ----------
    path : path-like
        Folder to create (parents included); an existing folder is reused, which is how an
        interrupted run resumes.

    Attributes
    ----------
    path : Path
    figures : Path
        ``path / "figures"``.
    logger : logging.Logger
        Writes to ``path / "run.log"``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.figures = self.path / "figures"
        self.figures.mkdir(exist_ok=True)
        self.logger = logging.getLogger(f"spectranet.run.{self.path.resolve()}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        if not self.logger.handlers:
            handler = logging.FileHandler(self.path / "run.log", encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.logger.addHandler(handler)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def log(self, message: str) -> None:
        """Append a line to ``run.log``."""
        self.logger.info(message)

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` to ``name`` inside the run folder, atomically."""
        return atomic_write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        """Read ``name`` from the run folder."""
        return read_json(self.path / name)

    def write_text(self, name: str, text: str) -> Path:
        """Write text to ``name`` inside the run folder, atomically."""
        return atomic_write_text(self.path / name, text)

    def save_figure(self, fig: Any, name: str, *, dpi: int = 110) -> Path:
        """Save ``fig`` as ``figures/<name>.png``."""
        return save_figure(fig, self.figures / f"{name}.png", dpi=dpi)

    def is_complete(self) -> bool:
        """Whether the run finished (its ``metrics.json`` exists)."""
        return (self.path / "metrics.json").is_file()

    def close(self) -> None:
        """Release the log file."""
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)
