"""The functions behind ``spectranet data list | download NAME | verify NAME``.

Every public dataset, of either domain, is seen here as a folder under the data root plus a
list of :class:`~spectranet.datahome.RemoteFile` records (file name, URL, sha256). The one
place that gathers them is :func:`_registry`. Audio datasets come as archives: after download
and checksum they are extracted beside it, and an extracted copy counts as present.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from spectranet.datahome import RemoteFile, data_home, download, sha256sum
from spectranet.errors import ChecksumError, ConfigError, DataNotFoundError

__all__ = ["list_datasets", "download_dataset", "verify_dataset"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class _Dataset:
    """A downloadable dataset: its domain, folder (relative to the data root) and files."""

    name: str
    domain: str  # "hsi" or "audio"
    folder: Path
    files: tuple[RemoteFile, ...]
    # archives only: metadata files (relative to ``folder``) that show it is already extracted
    extracted: tuple[Path, ...] = ()


def _registry() -> dict[str, _Dataset]:
    """Gather every registered dataset of both domains, by name."""
    from spectranet.hsi import datasets as hsi

    entries = {}
    for name in hsi.list_scenes():
        info = hsi.get_scene_info(name)
        entries[name] = _Dataset(name, "hsi", Path("hsi", info.folder), info.files)
    from spectranet.audio import registry as audio

    for name in audio.list_datasets():
        info = audio.get_dataset_info(name)
        if info.filename is None:
            continue
        entries[name] = _Dataset(
            name, "audio", Path("audio"),
            (RemoteFile(info.filename, info.url, info.sha256),),
            extracted=tuple(Path(folder, info.metadata) for folder in info.folders),
        )  # fmt: skip
    return entries


def _get(name: str) -> _Dataset:
    entries = _registry()
    if name not in entries:
        raise ConfigError(f"unknown dataset {name!r}; valid datasets: {', '.join(sorted(entries))}")
    return entries[name]


def _root(root: PathLike | None) -> Path:
    return data_home(root)


def _file_status(path: Path, remote: RemoteFile) -> tuple[str, str | None]:
    """Return (status, actual sha256): status "missing", "ok", "mismatch" or "unverified"."""
    if not path.is_file():
        return "missing", None
    actual = sha256sum(path)
    if remote.sha256 is None:
        return "unverified", actual
    return ("ok" if actual == remote.sha256 else "mismatch"), actual


def verify_dataset(name: str, root: PathLike | None = None) -> dict[str, str]:
    """Check the files of dataset ``name`` against their registered sha256.

    Parameters
    ----------
    name : str
        A registered dataset (see :func:`list_datasets`).
    root : path-like or None, default None
        Data root; None = :func:`spectranet.datahome.data_home`.

    Returns
    -------
    dict
        File name -> status, in registry order: "ok" (present, sum matches), "mismatch"
        (present, sum differs), "unverified" (present, no canonical sum registered) or
        "missing".

    Raises
    ------
    ConfigError
        Unknown dataset name.
    """
    entry = _get(name)
    folder = _root(root) / entry.folder
    status = {f.filename: _file_status(folder / f.filename, f)[0] for f in entry.files}
    done = _extracted(entry, folder)
    if done is not None and set(status.values()) == {"missing"}:  # archive removed after use
        return {str(done.relative_to(folder)): "extracted"}
    return status


def _extracted(entry: _Dataset, folder: Path) -> Path | None:
    """The metadata file of an already extracted archive, if any."""
    return next((folder / p for p in entry.extracted if (folder / p).is_file()), None)


def _extract(archive: Path, into: Path) -> None:
    """Unpack a .zip or .tar.* archive into ``into`` (members may not leave it)."""
    import tarfile
    import zipfile

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")


def _summary(files: dict[str, str]) -> str:
    """One word or phrase for a dataset's file statuses."""
    states = set(files.values())
    if states == {"missing"}:
        return "missing"
    if "mismatch" in states:
        return "checksum mismatch: " + ", ".join(k for k, v in files.items() if v == "mismatch")
    if "missing" in states:
        return "incomplete, missing: " + ", ".join(k for k, v in files.items() if v == "missing")
    if states == {"ok"}:
        return "verified"
    if states == {"extracted"}:
        return "present (extracted)"
    return "present" if states == {"present"} else "present, unverified: " + ", ".join(
        k for k, v in files.items() if v == "unverified")  # fmt: skip


def list_datasets(
    root: PathLike | None = None, *, checksums: bool = True
) -> list[dict[str, object]]:
    """Describe every registered dataset and the state of its files under ``root``.

    Parameters
    ----------
    root : path-like or None, default None
        Data root; None = :func:`spectranet.datahome.data_home`.
    checksums : bool, default True
        Hash present files (about 0.5 s per 100 MB); if False, ``verified`` is None.

    Returns
    -------
    list of dict
        One per dataset, sorted by name: ``name``, ``domain`` ("hsi" or "audio"), ``folder``,
        ``files`` (file name -> status as in :func:`verify_dataset`, or "present"/"missing"
        without checksums), ``present`` (all files present), ``verified`` (all files present
        with a matching canonical sum) and ``status`` (a one-line summary).
    """
    base = _root(root)
    rows = []
    for name, entry in sorted(_registry().items()):
        folder = base / entry.folder
        if checksums:
            files = verify_dataset(name, base)
            verified: bool | None = all(s == "ok" for s in files.values())
        else:
            files = {f.filename: "present" if (folder / f.filename).is_file() else "missing"
                     for f in entry.files}  # fmt: skip
            if set(files.values()) == {"missing"} and _extracted(entry, folder) is not None:
                files = {name: "extracted"}
            verified = None
        rows.append({"name": name, "domain": entry.domain, "folder": str(folder), "files": files,
                     "present": all(s != "missing" for s in files.values()),
                     "verified": verified, "status": _summary(files)})  # fmt: skip
    return rows


def download_dataset(
    name: str, root: PathLike | None = None, *, allow_download: bool = True, progress: bool = True
) -> list[Path]:
    """Make the files of dataset ``name`` present and verified; return their paths.

    For each file: present with a matching sum -> used as is; present without a canonical sum
    -> used, with a warning; present with a different sum -> error (never overwritten);
    missing -> downloaded from the official address to a temporary file, checked, moved in.

    Parameters
    ----------
    name : str
        A registered dataset (see :func:`list_datasets`).
    root : path-like or None, default None
        Data root; None = :func:`spectranet.datahome.data_home`.
    allow_download : bool, default True
        If False, a missing file is an error instead of a download.
    progress : bool, default True
        Show download progress bars.

    Returns
    -------
    list of pathlib.Path
        The dataset's files, in registry order.

    Raises
    ------
    ConfigError
        Unknown dataset name.
    ChecksumError
        A present file or a fresh download has the wrong sha256 (nothing is left behind).
    DataNotFoundError
        A file is missing and cannot be downloaded (no URL, downloads disallowed, network).
    """
    entry = _get(name)
    folder = _root(root) / entry.folder
    done = _extracted(entry, folder)
    if done is not None:  # an archive dataset already unpacked
        return [done]
    todo = []
    for remote in entry.files:  # check everything before fetching anything
        path = folder / remote.filename
        if path.is_file():
            status, actual = _file_status(path, remote)
            if status == "mismatch":
                raise ChecksumError(
                    f"{path}: sha256 mismatch, expected {remote.sha256}, "
                    f"got {actual}; delete it to download it again"
                )
            if status == "unverified":
                warnings.warn(f"{path}: no canonical sha256 registered, file unverified",
                              stacklevel=2)  # fmt: skip
        elif remote.url is None:
            raise DataNotFoundError(f"{path} is missing and has no public URL: obtain it and "
                                    "place it there yourself")  # fmt: skip
        elif not allow_download:
            raise DataNotFoundError(f"{path} is missing: run `spectranet data download {name}` "
                                    "or place the file there yourself")  # fmt: skip
        else:
            todo.append((remote, path))
    for remote, path in todo:
        try:
            download(remote.url, path, sha256=remote.sha256,  # type: ignore[arg-type]
                     progress=progress)
        except DataNotFoundError as exc:  # no network: say how to place the file by hand
            sha = f"sha256 {remote.sha256}" if remote.sha256 else "no registered sha256"
            raise DataNotFoundError(f"{exc}; without a network, download {remote.url} "
                                    f"elsewhere and place it at {path} ({sha}), then run "
                                    f"`spectranet data verify {name}`") from exc
    if entry.extracted:
        for remote in entry.files:
            _extract(folder / remote.filename, folder)
        done = _extracted(entry, folder)
        if done is None:
            raise DataNotFoundError(f"{folder}: the archive of {name} holds none of "
                                    f"{[str(p) for p in entry.extracted]}")
        return [done]
    return [folder / remote.filename for remote in entry.files]
