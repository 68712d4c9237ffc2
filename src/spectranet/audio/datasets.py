"""Audio dataset layouts -> clip records.

A registry of frozen :class:`~spectranet.audio.registry.AudioDatasetInfo` records
(:mod:`spectranet.audio.registry`) describes each public layout (folder,
metadata CSV and its columns, audio folder, official URL, class names); one generic CSV reader
serves them all and a user folder (audio files plus a CSV with columns ``file``, ``label`` and
optional ``fold`` and ``group``, the source recording). Datasets here read and describe clips;
they never split, shuffle or normalise.

Audio files are matched by *stem* in any format soundfile reads: the shared UrbanSound8K copy
stores ``<stem>.flac`` although its CSV names ``<stem>.wav``.
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any, Literal

import numpy as np
import soundfile as sf

from spectranet.audio.registry import AudioDatasetInfo, get_dataset_info, list_datasets
from spectranet.datahome import data_home
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = ["ClipRecord", "ClipTable", "load_clips"]

OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class ClipRecord:
    """One labelled clip.

    Attributes
    ----------
    path : Path
        Resolved audio file (matched by stem, any format soundfile reads).
    label : int
        Contiguous class index in 0..K-1.
    fold : int or None
        Predefined fold, None when the layout has none.
    clip_id : int
        Index of the clip in its :class:`ClipTable`; windows carry it as their ``id``.
    name : str
        File name as written in the metadata (e.g. ``100652-3-0-0.wav``).
    group : str or None, default None
        Source recording (UrbanSound8K ``fsID``, ESC-50 ``src_file``, a user CSV's ``group``);
        None when the metadata has none.
    """

    path: Path
    label: int
    fold: int | None
    clip_id: int
    name: str
    group: str | None = None


@dataclass(frozen=True)
class ClipTable:
    """Clip records of one dataset plus its classes.

    Attributes
    ----------
    records : tuple of ClipRecord
        In metadata order (never reshuffled); ``records[i].clip_id == i``.
    class_names : tuple of str
        Name of each contiguous label.
    class_ids : tuple of int
        Original class id of each contiguous label.
    source : str
        Dataset name or the user folder.
    skipped : tuple of (str, str)
        ``(file, reason)`` of rows dropped with ``on_error="skip"``.
    """

    records: tuple[ClipRecord, ...]
    class_names: tuple[str, ...]
    class_ids: tuple[int, ...]
    source: str = ""
    skipped: tuple[tuple[str, str], ...] = field(default=())

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> ClipRecord:
        return self.records[index]

    def fingerprint(self) -> str:
        """sha256 over every clip's file name, size in bytes, class name and fold.

        Changes when a clip is added, removed, relabelled, moved to another fold or replaced
        by a file of another size (a run's data identity; hashing every byte would take
        minutes on a full dataset).
        """
        from spectranet.engine.identity import fingerprint_records

        return fingerprint_records((r.name, r.path.stat().st_size if r.path.is_file() else -1,
                                    self.class_names[r.label], r.fold) for r in self.records)

    @property
    def labels(self) -> np.ndarray:
        """Contiguous labels, shape (n_clips,), int64."""
        return np.array([r.label for r in self.records], dtype=np.int64)

    @property
    def folds(self) -> np.ndarray:
        """Fold of each clip, shape (n_clips,), int64; -1 where the layout has no folds."""
        return np.array([-1 if r.fold is None else r.fold for r in self.records], dtype=np.int64)

    @property
    def groups(self) -> np.ndarray:
        """Source recording of each clip as a code, shape (n_clips,), int64.

        Clips sharing ``ClipRecord.group`` share a code; a clip without one is its own group.
        """
        named = {g: k for k, g in enumerate(sorted({r.group for r in self.records
                                                     if r.group is not None}))}
        return np.array([len(named) + r.clip_id if r.group is None else named[r.group]
                         for r in self.records], dtype=np.int64)

    @property
    def folds_present(self) -> list[int]:
        """Sorted folds that occur in the table (empty without folds)."""
        return sorted({r.fold for r in self.records if r.fold is not None})

    def cv_folds(self, folds: Sequence[int] | None = None, *, name: str = "dataset") -> list[int]:
        """The folds to cross-validate: ``folds``, or every fold present when None.

        Raises
        ------
        ConfigError
            If the clips have no folds, or ``folds`` names one that is not present.
        """
        present = self.folds_present
        if not present:
            raise ConfigError(f"{name}: the clips have no folds; add a fold column")
        missing = sorted(set(folds or []) - set(present))
        if missing:
            raise ConfigError(f"folds must be among the folds present {present}, got {missing}")
        return list(folds) if folds else present


def _audio_suffixes() -> set[str]:
    suffixes = {f".{k.lower()}" for k in sf.available_formats()}
    return suffixes | {".aif", ".oga", ".opus", ".wav", ".flac", ".ogg"}


class _StemIndex:
    """Finds the audio file for a metadata name by stem, scanning each folder once."""

    def __init__(self) -> None:
        self._dirs: dict[Path, dict[str, list[Path]]] = {}
        self._suffixes = _audio_suffixes()

    def resolve(self, folder: Path, name: str) -> Path:
        exact = folder / name
        if exact.is_file():
            return exact
        rel = Path(name)
        folder = folder / rel.parent
        if folder not in self._dirs:
            index: dict[str, list[Path]] = {}
            if folder.is_dir():
                for entry in os.scandir(folder):
                    p = Path(entry.path)
                    if entry.is_file() and p.suffix.lower() in self._suffixes:
                        index.setdefault(p.stem, []).append(p)
            self._dirs[folder] = index
        found = sorted(self._dirs[folder].get(rel.stem, []))
        if not found:
            raise DataNotFoundError(
                f"audio file for {name!r} not found: expected {folder}/{rel.stem}.<audio suffix>"
            )
        if len(found) > 1:
            raise DataError(
                f"audio file for {name!r} is ambiguous: expected one file with stem "
                f"{rel.stem!r} in {folder}, got {[p.name for p in found]}"
            )
        return found[0]


def _read_csv(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataNotFoundError(f"metadata file not found: {path}")
    raw = path.read_bytes()
    if b"\0" in raw:
        raise DataError(f"{path}: not a text CSV (it holds NUL bytes at offset "
                        f"{raw.index(0)}); expected UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise DataError(f"{path} line {line}: not UTF-8 text (byte 0x{raw[err.start]:02x} at "
                        f"offset {err.start}); save the CSV as UTF-8") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in required if c not in columns]
        if missing:
            raise DataError(f"{path}: expected columns {list(required)}, missing {missing}")
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except csv.Error as err:
        raise DataError(f"{path} line {reader.line_num}: not a readable CSV ({err})") from None


def _check_inside(name: str, meta: Path, line: int, folder: Path) -> None:
    """Refuse a metadata file name that leaves the dataset folder (checked before any read)."""
    posix = name.replace("\\", "/")
    if (posixpath.isabs(posix) or PureWindowsPath(name).drive
            or posixpath.normpath(posix).split("/")[0] == ".."):
        raise DataError(f"{meta} line {line}: file {name!r} is outside the dataset folder "
                        f"{folder}; give a path relative to it, without '..' leaving it")


def _to_int(value: str, path: Path, line: int, column: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataError(
            f"{path} line {line}: column {column!r} must be an integer, got {value!r}"
        ) from None


def _dataset_folder(info: AudioDatasetInfo, root: str | os.PathLike[str] | None) -> Path:
    base = data_home(root)
    if (base / info.metadata).is_file():  # root points at the dataset folder itself
        return base
    tried = [base / "audio" / f for f in info.folders]
    for folder in tried:
        if (folder / info.metadata).is_file():
            return folder
    raise DataNotFoundError(
        f"dataset {info.name!r} not found: expected {info.metadata} under one of "
        f"{[str(t) for t in tried]}; run 'spectranet data download {info.name}' or pass root="
    )


_Row = tuple[str, int, int | None, Callable[[], Path], str | None]  # name, label, fold, file, group


def _collect(rows: list[_Row], on_error: OnError
             ) -> tuple[list[ClipRecord], list[tuple[str, str]]]:
    records: list[ClipRecord] = []
    skipped: list[tuple[str, str]] = []
    for name, label, fold, resolve, group in rows:
        try:
            path = resolve()
        except (DataError, DataNotFoundError) as err:
            if on_error == "raise":
                raise
            skipped.append((name, str(err)))
            continue
        records.append(ClipRecord(path, label, fold, len(records), name, group))
    return records, skipped


def _check_folds(folds: Sequence[int] | None, present: Sequence[int], where: str) -> None:
    if folds is None:
        return
    if not present:
        raise ConfigError(f"folds: {where} has no fold column, got folds={list(folds)}")
    absent = sorted(set(folds) - set(present))
    if absent:
        raise ConfigError(f"folds must be among those present in {where} {list(present)}, "
                          f"got {absent}")  # fmt: skip


def _load_registered(
    info: AudioDatasetInfo, root: Any, folds: Sequence[int] | None, on_error: OnError
) -> ClipTable:
    folder = _dataset_folder(info, root)
    meta = folder / info.metadata
    columns = [info.file_column, info.fold_column, info.label_column, info.class_column]
    table = _read_csv(meta, columns + [c for c in (info.subset_column, info.group_column) if c])
    position = {cid: k for k, cid in enumerate(info.class_ids)}
    index = _StemIndex()
    rows: list[_Row] = []
    present: set[int] = set()
    for line, row in enumerate(table, start=2):
        if info.subset_column and row[info.subset_column].lower() not in ("true", "1"):
            continue
        fold = _to_int(row[info.fold_column], meta, line, info.fold_column)
        original = _to_int(row[info.label_column], meta, line, info.label_column)
        if original not in position:
            raise DataError(f"{meta} line {line}: {info.label_column} must be one of "
                            f"{list(info.class_ids)}, got {original}")  # fmt: skip
        label = position[original]
        if row[info.class_column] != info.class_names[label]:
            raise DataError(
                f"{meta} line {line}: class of id {original} must be "
                f"{info.class_names[label]!r}, got {row[info.class_column]!r}"
            )
        present.add(fold)
        if folds is not None and fold not in folds:
            continue
        name = row[info.file_column]
        audio = folder / info.audio_dir.format(fold=fold)
        _check_inside(name, meta, line, audio)
        rows.append((name, label, fold, lambda a=audio, n=name: index.resolve(a, n),
                     (row[info.group_column] or None) if info.group_column else None))
    _check_folds(folds, sorted(present), str(meta))
    records, skipped = _collect(rows, on_error)
    return ClipTable(tuple(records), info.class_names, info.class_ids, info.name, tuple(skipped))


def _user_csv(path: Path) -> Path:
    if path.is_file():
        return path
    if (path / "labels.csv").is_file():
        return path / "labels.csv"
    found = sorted(path.glob("*.csv"))
    if len(found) != 1:
        raise DataNotFoundError(
            f"{path}: expected labels.csv or exactly one .csv with columns file,label[,fold], "
            f"got {[p.name for p in found]}"
        )
    return found[0]


def _load_user(path: Path, folds: Sequence[int] | None, on_error: OnError) -> ClipTable:
    meta = _user_csv(path)
    folder = meta.parent
    table = _read_csv(meta, ["file", "label"])
    if not table:
        raise DataError(f"{meta}: expected at least one row, got none")
    has_fold = "fold" in table[0]
    raw = [row["label"] for row in table]
    if all(v.lstrip("-").isdigit() for v in raw):
        ids = sorted({int(v) for v in raw})
        class_ids, class_names = tuple(ids), tuple(str(i) for i in ids)
        to_label = {v: ids.index(int(v)) for v in set(raw)}
    else:
        class_names = tuple(sorted(set(raw)))
        class_ids = tuple(range(len(class_names)))
        to_label = {name: k for k, name in enumerate(class_names)}
    index = _StemIndex()
    rows: list[_Row] = []
    present: set[int] = set()
    first: dict[str, tuple[int, str, str | None]] = {}
    for line, row in enumerate(table, start=2):
        if not row["file"] or not row["label"]:
            raise DataError(f"{meta} line {line}: expected non-empty file and label, got {row}")
        _check_inside(row["file"], meta, line, folder)
        key = Path(row["file"].strip()).as_posix()
        if key in first:  # one recording on two rows: two folds or two labels leak
            line0, label0, fold0 = first[key]
            raise DataError(f"{meta} line {line}: {row['file']} is already on line {line0} "
                            f"(label {label0!r}, fold {fold0}; here label {row['label']!r}, "
                            f"fold {row.get('fold')}): a file may appear once, else it trains "
                            "and tests, or carries two labels")
        first[key] = (line, row["label"], row.get("fold"))
        fold = _to_int(row["fold"], meta, line, "fold") if has_fold else None
        if fold is not None:
            present.add(fold)
            if folds is not None and fold not in folds:
                continue
        name = row["file"]
        rows.append((name, to_label[row["label"]], fold, lambda n=name: index.resolve(folder, n),
                     row.get("group") or None))
    _check_folds(folds, sorted(present), str(meta))
    records, skipped = _collect(rows, on_error)
    seen: dict[Path, str] = {}
    for r in records:  # two spellings of one file (a.wav, a.WAV, a.flac for a.wav)
        if r.path in seen:
            raise DataError(f"{meta}: {seen[r.path]} and {r.name} are the same file {r.path}: "
                            "a file may appear once, else it trains and tests, or carries two "
                            "labels")
        seen[r.path] = r.name
    return ClipTable(tuple(records), class_names, class_ids, str(folder), tuple(skipped))


def load_clips(
    dataset_or_dir: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    folds: Sequence[int] | None = None,
    on_error: OnError = "raise",
) -> ClipTable:
    """Read a dataset's metadata and resolve every clip's audio file.

    Parameters
    ----------
    dataset_or_dir : str or path
        A registered name (see :func:`list_datasets`) or a user folder holding audio files and
        ``labels.csv`` (or its only ``.csv``) with columns ``file``, ``label`` and optional
        ``fold`` and ``group`` (source recording); a CSV path works too. User labels map to
        0..K-1 in sorted order (numeric when every label is an integer).
    root : path, optional
        Data root (default ``$SPECTRANET_DATA``, else ``~/.cache/spectranet``); the dataset is
        looked for in ``root/audio/<folder>``, or ``root`` itself when it holds the metadata.
    folds : sequence of int, optional
        Keep only these folds (all present folds by default). Folds are never reshuffled.
    on_error : {"raise", "skip"}, default "raise"
        What to do with a row whose audio file is missing or ambiguous: raise, or drop it and
        list it in ``ClipTable.skipped``.

    Returns
    -------
    ClipTable
        Records in metadata order with ``clip_id`` 0..n-1, class names and original ids.

    Raises
    ------
    ConfigError
        Bad ``on_error`` or folds not present.
    DataNotFoundError
        Dataset, metadata or (with ``on_error="raise"``) an audio file missing.
    DataError
        Malformed metadata.
    """
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if folds is not None:
        folds = [int(f) for f in folds]
    name = os.fspath(dataset_or_dir)
    if name in list_datasets():
        return _load_registered(get_dataset_info(name), root, folds, on_error)
    path = Path(name).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"dataset_or_dir must be one of {list_datasets()} or an existing folder, got {name!r}"
        )
    return _load_user(path, folds, on_error)
