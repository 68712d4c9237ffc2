"""A run's identity (configuration + data fingerprint) and the checks on its output folder.

Both are made before anything is written.

A rerun of the same command in the same folder resumes or returns the finished result only
when both the configuration and the data are those of the run already there; changed data
under the same paths is refused rather than mistaken for a finished run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from spectranet.engine.ownership import check_owned
from spectranet.engine.runs import read_json
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = ["fingerprint_files", "fingerprint_records", "check_out_dir", "check_identity",
           "check_same_data", "read_run", "config_as_json", "same_config", "DOMAIN_NAMES"]

#: What each run domain is called in messages.
DOMAIN_NAMES = {"hsi": "hyperspectral", "audio": "sound", "mfcc": "MFCC baseline"}

_CHUNK = 1 << 20

#: fingerprint_files' results in this process, by (path, size, inode, mtime, ctime) per file.
_FINGERPRINTS: dict[tuple[tuple[str, int, int, int, int], ...], str] = {}
_SETTLED_NS = 1_000_000_000


def config_as_json(config: Any) -> Any:
    """``config`` (a dataclass or plain data) as it reads back from JSON."""
    data = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    return json.loads(json.dumps(data, default=str))


def _field_defaults(config: Any) -> dict[str, Any]:
    """JSON-normalised defaults of a dataclass configuration's fields that have one."""
    out = {}
    for f in dataclasses.fields(config):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return config_as_json(out)


def same_config(stored: Any, config: Any) -> bool:
    """Whether a configuration read back from JSON (``config.json``, ``grid.json``) is ``config``.

    A field added to the configuration class after ``stored`` was written counts as equal when
    ``config`` has that field's default (the run was trained with what the default does), so
    run folders and grids stay resumable and reusable across versions that add options.
    """
    current = config_as_json(config)
    if stored == current:
        return True
    if not (dataclasses.is_dataclass(config) and isinstance(stored, dict)):
        return False
    added = set(current) - set(stored)
    defaults = _field_defaults(config)
    return (all(k in defaults and current[k] == defaults[k] for k in added)
            and {k: v for k, v in current.items() if k not in added} == stored)


def fingerprint_files(paths: Sequence[str | os.PathLike[str]]) -> str:
    """sha256 over the contents of ``paths`` in order (each prefixed by its size).

    The file names do not enter it: the same data moved elsewhere keeps its fingerprint.
    Within one process the result is remembered per list of files and their size, inode,
    modification and change times, so a grid that checks many runs on one cube reads it once.
    As in git's "racy clean" rule, files changed less than a second before hashing began are
    not remembered: timestamps are coarse, and a file rewritten within the same tick could
    otherwise keep its old fingerprint.
    """
    started = time.time_ns()
    stats = [(p, p.stat()) for p in (Path(path).resolve() for path in paths)]
    key = tuple((str(p), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
                for p, st in stats)
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    digest = hashlib.sha256()
    for path, st in stats:
        digest.update(f"{st.st_size}\n".encode())
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    if all(started - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS for _, st in stats):
        _FINGERPRINTS[key] = digest.hexdigest()
    return digest.hexdigest()


def fingerprint_records(records: Iterable[Sequence[Any]]) -> str:
    """sha256 over rows of plain values (e.g. a clip's relative path, size, label and fold).

    For datasets of many files, where hashing every byte at each start would cost minutes.
    """
    digest = hashlib.sha256()
    for row in records:
        digest.update(json.dumps(list(row), default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def check_out_dir(out: str | os.PathLike[str], *, marker: str | None, kind: str = "run",
                  option: str = "--out") -> Path:
    """Check that ``out`` can receive a run before anything is written.

    Parameters
    ----------
    out : path-like
        The folder to write: new, empty, or holding spectranet's output of ``kind`` (its
        marker, :mod:`spectranet.engine.ownership`).
    marker : str or None
        The identity file of runs written before markers existed (e.g. ``"config.json"``):
        such a folder is taken only with its ``metrics.json`` (a finished run); None: a
        folder without a marker is never taken.
    kind : str, default "run"
        What the folder must hold (``"run"``, ``"hsi predict"``...).
    option : str, default "--out"
        The option named in messages.

    Raises
    ------
    ConfigError
        ``out`` is a file, sits below a file, is not writable, is a folder holding files
        spectranet did not write (a user's own files are never overwritten) or another kind
        of output, or holds a symbolic link.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder; give a folder for --out")
    existing = next((p for p in [out, *out.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"{out}: {existing} is a file, so the folder cannot be created")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{out}: {existing} is not writable")
    check_owned(out, kind, legacy=marker, option=option)
    return out


def check_identity(out: str | os.PathLike[str], config: Any, fingerprint: str, *,
                   marker: str = "config.json", content: str | None = None) -> None:
    """Refuse to resume or reuse a run in ``out`` made with another configuration or data.

    ``out / marker`` (JSON) must hold the run's ``config`` and ``data_fingerprint`` as written
    by the pipelines, and its ``content_fingerprint`` equal ``content`` where both exist (a
    fingerprint of the data's bytes, for datasets whose ``data_fingerprint`` covers names and
    sizes only; runs written before it was recorded are checked on the latter alone). A run
    that never started training (no ``checkpoint.pt`` in the folder, no ``metrics.json``: a
    start that failed) does not count, so it never blocks the corrected command.

    Raises
    ------
    ConfigError
        Another configuration, or no fingerprint recorded.
    DataError
        The same configuration on data that changed since the run was written.
    """
    out = Path(out)
    path = out / marker
    if not path.is_file():
        return
    if not (out / "metrics.json").is_file() and next(out.rglob("checkpoint.pt"), None) is None:
        return
    previous = read_json(path)
    if not same_config(previous.get("config"), config):
        raise ConfigError(f"{out} holds a run with another configuration; use a new --out")
    recorded = previous.get("data_fingerprint")
    if recorded is None:
        raise ConfigError(f"{path}: no data fingerprint recorded (written by an older "
                          "spectranet), so its data cannot be checked; use a new --out")
    if recorded != fingerprint:
        raise DataError(f"{out}: the input data changed since this run was written (data "
                        f"fingerprint {recorded[:12]}... now {fingerprint[:12]}...); use a new "
                        "--out to train on the new data")
    stored = previous.get("content_fingerprint")
    if content is not None and stored is not None and stored != content:
        raise DataError(f"{out}: the content of the input data changed since this run was "
                        f"written (same files and sizes, other bytes: content fingerprint "
                        f"{stored[:12]}... now {content[:12]}...); use a new --out to train on "
                        "the new data")


def check_same_data(run: str | os.PathLike[str], saved: dict[str, Any], fingerprint: str, *,
                    content: str | None = None, files: str = "") -> None:
    """Refuse to score a run on data other than the data it was trained on.

    Parameters
    ----------
    run : path-like
        The run folder, for the message.
    saved : dict
        Its ``config.json`` (:func:`read_run`); runs written before fingerprints (or before
        ``content_fingerprint``) are checked on what they recorded.
    fingerprint, content : str
        The data's fingerprints now, computed as the run's pipeline did.
    files : str
        What the data is (file names), for the message.

    Raises
    ------
    DataError
        A fingerprint differs from the recorded one.
    """
    for key, now in (("data_fingerprint", fingerprint), ("content_fingerprint", content)):
        recorded = saved.get(key)
        if recorded is not None and now is not None and recorded != now:
            what = f"{files}: " if files else ""
            raise DataError(f"{run}: its data changed since it was trained ({what}"
                            f"{key.replace('_', ' ')} {str(recorded)[:12]}... now {now[:12]}...);"
                            " the run can only be scored on its own data")


def read_run(run: str | os.PathLike[str], *, expect: str | None = None
             ) -> tuple[dict[str, Any], str]:
    """Read a run folder's ``config.json``; return it with the run's domain.

    Parameters
    ----------
    run : path-like
        A folder written by ``spectranet hsi train``, ``audio train`` or the MFCC baseline.
    expect : {"hsi", "audio", "mfcc"}, optional
        Refuse a run of another domain.

    Returns
    -------
    (dict, str)
        The saved configuration file, and "hsi", "audio" or "mfcc".

    Raises
    ------
    DataNotFoundError
        No such folder, or no ``config.json`` in it.
    DataError
        ``config.json`` is not valid JSON or not a run's, or the run is of another domain.
    """
    run = Path(run)
    if not run.is_dir():
        raise DataNotFoundError(f"{run}: no such run folder")
    path = run / "config.json"
    if not path.is_file():
        raise DataNotFoundError(f"{run}: not a spectranet run folder (no config.json)")
    saved = read_json(path)
    domain = saved.get("domain") if isinstance(saved, dict) else None
    if domain is None and isinstance(saved, dict) and isinstance(saved.get("config"), dict):
        # runs written before config.json recorded its domain
        if "scene" in saved:
            domain = "hsi"
        elif "features" in saved and "classes" in saved:
            domain = "audio"
        elif "classifier" in saved:
            domain = "mfcc"
    if domain not in DOMAIN_NAMES or not isinstance(saved.get("config"), dict):
        raise DataError(f"{path}: not the configuration of a spectranet run")
    if expect is not None and domain != expect:
        raise DataError(f"{run}: a {DOMAIN_NAMES[domain]} run, not a {DOMAIN_NAMES[expect]} "
                        f"one; use `spectranet {'hsi' if domain == 'hsi' else 'audio'} ...`")
    return saved, domain
