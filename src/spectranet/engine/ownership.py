"""Which folders spectranet may write into, and who writes them now.

A folder is spectranet's when its marker file (:data:`MARKER`, written before anything else)
is there: it records what kind of output the folder holds (a run of a domain, a prediction)
and the run's identity. Train, predict and export write only into a new or empty folder, or
into one whose marker says it holds their own kind of output, so a user's files are never
overwritten. A run folder written before markers existed is recognised by its old identity
file (``config.json`` with a data fingerprint) together with its ``metrics.json``.

While a process writes a folder it holds :data:`LOCK`, a file created exclusively that names
its process id and host; a second process is refused, and a lock whose process has died (on
this host) is taken over. A folder written by spectranet holds no symbolic links, so a link
found in one is refused instead of being written through.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spectranet.engine.runs import RunDir, atomic_write_json, read_json
from spectranet.errors import ConfigError

__all__ = ["MARKER", "LOCK", "read_marker", "is_owned", "check_owned", "write_marker",
           "check_no_links", "FolderLock", "output_folder"]

MARKER = ".spectranet.json"
LOCK = ".spectranet.lock"


def read_marker(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The marker of ``folder`` (a dict with at least ``kind``), or None without one."""
    path = Path(folder) / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    with contextlib.suppress(Exception):
        marker = read_json(path)
        if isinstance(marker, dict) and isinstance(marker.get("kind"), str):
            return marker
    return None


def _legacy_run(folder: Path, identity: str) -> bool:
    """A run folder finished before markers existed: its identity file and ``metrics.json``."""
    if not ((folder / identity).is_file() and (folder / "metrics.json").is_file()):
        return False
    with contextlib.suppress(Exception):
        saved = read_json(folder / identity)
        return isinstance(saved, dict) and isinstance(saved.get("config"), dict)
    return False


def is_owned(folder: str | os.PathLike[str], kind: str, *,
             legacy: str | None = None) -> bool:
    """Whether ``folder`` holds spectranet's output of ``kind`` (e.g. ``"run"``, ``"predict"``).

    ``legacy`` names the identity file of folders written before markers existed (a run's
    ``config.json``); such a folder counts only with a finished ``metrics.json`` beside it.
    """
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is not None:
        return marker["kind"] == kind
    return legacy is not None and _legacy_run(folder, legacy)


def check_owned(out: str | os.PathLike[str], kind: str, *, legacy: str | None = None,
                option: str = "--out") -> None:
    """Refuse a non-empty ``out`` that is not spectranet's output of ``kind``.

    Raises
    ------
    ConfigError
        ``out`` holds files and no marker of ``kind`` (a user's folder, or another kind of
        output), or holds a symbolic link.
    """
    out = Path(out)
    if not out.is_dir():
        return
    others = sorted(p.name for p in out.iterdir() if p.name != LOCK)  # a start's lock alone
    if not others:
        return
    marker = read_marker(out)
    if marker is not None and marker["kind"] != kind:
        raise ConfigError(f"{out}: holds spectranet's {marker['kind']} output, not a {kind}'s; "
                          f"give another {option}")
    if not is_owned(out, kind, legacy=legacy):
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ConfigError(f"{out}: folder holds files ({shown}) that spectranet did not write "
                          f"(no {MARKER}); give a new or empty folder for {option}")
    check_no_links(out)


def write_marker(folder: str | os.PathLike[str], kind: str, **identity: Any) -> None:
    """Write ``folder``'s marker (first of its files) unless it already has one."""
    if read_marker(folder) is None:
        atomic_write_json(Path(folder) / MARKER, {"written_by": "spectranet", "kind": kind,
                                                  **identity})


def check_no_links(folder: str | os.PathLike[str]) -> None:
    """Refuse a folder holding a symbolic link anywhere below it (spectranet writes none).

    Raises
    ------
    ConfigError
        Naming the first link found.
    """
    for parent, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(parent) / name
            if path.is_symlink():
                raise ConfigError(f"{path}: a symbolic link inside an output folder (to "
                                  f"{os.readlink(path)}); spectranet does not write through "
                                  "links: remove it or give another folder")


@contextlib.contextmanager
def output_folder(out: str | os.PathLike[str], kind: str,
                  **identity: Any) -> Iterator[RunDir]:
    """Hold ``out``'s lock, mark it as spectranet's output of ``kind`` and yield its writer.

    ``out`` is checked again under the lock (:func:`check_owned`); the lock is released and
    the log closed on exit.
    """
    lock = FolderLock(out)
    try:
        check_owned(out, kind)
        write_marker(out, kind, **identity)
        folder = RunDir(out)
        try:
            yield folder
        finally:
            folder.close()
    finally:
        lock.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class FolderLock:
    """An exclusive lock on an output folder: :data:`LOCK` naming this process and host.

    Parameters
    ----------
    folder : path-like
        Created if missing.

    Raises
    ------
    ConfigError
        Another live process (or one on another host) holds the lock.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / LOCK
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._held = False
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o644)
            except FileExistsError:
                self._take_over_or_refuse(owner)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(owner, fh)
            self._held = True
            atexit.register(self.release)
            return
        raise ConfigError(f"{self.path}: could not take the lock; try again")

    def _take_over_or_refuse(self, me: dict[str, Any]) -> None:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
            pid, host = int(holder["pid"]), str(holder["host"])
        except (OSError, ValueError, KeyError, TypeError):
            holder, pid, host = {}, -1, me["host"]  # unreadable: a writer died mid-write
        if host == me["host"] and (pid == me["pid"] or pid <= 0 or not _alive(pid)):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # stale (or this process's own, left by an error)
            return
        raise ConfigError(f"{self.path.parent}: another spectranet process (pid {pid} on "
                          f"{host}, since {holder.get('since', '?')}) is writing this folder; "
                          f"wait for it to end or give another folder (if no such process "
                          f"runs, delete {self.path})")

    def release(self) -> None:
        """Remove the lock file if this object holds it."""
        if self._held:
            self._held = False
            with contextlib.suppress(OSError):
                if json.loads(self.path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    self.path.unlink()
            atexit.unregister(self.release)
