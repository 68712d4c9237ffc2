"""Audio dataset layouts -> clip records, and audio decoding.

A registry of frozen :class:`AudioDatasetInfo` records describes each public layout (folder,
metadata CSV and its columns, audio folder, official URL, class names); one generic CSV reader
serves them all and a user folder (audio files plus a CSV with columns ``file``, ``label`` and
optional ``fold``). Datasets here read and describe clips; they never split, shuffle or normalise.

Audio files are matched by *stem* in any format soundfile reads: the shared UrbanSound8K copy
stores ``<stem>.flac`` although its CSV names ``<stem>.wav``.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf

from spectranet.datahome import data_home
from spectranet.errors import ConfigError, DataError, DataNotFoundError

__all__ = [
    "AudioDatasetInfo",
    "ClipRecord",
    "ClipTable",
    "decode_audio",
    "get_dataset_info",
    "list_datasets",
    "load_audio",
    "load_clips",
]

URBANSOUND8K_CLASSES = (
    "air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling",
    "engine_idling", "gun_shot", "jackhammer", "siren", "street_music",
)  # fmt: skip
ESC50_CLASSES = (
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
    "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds", "water_drops",
    "wind", "pouring_water", "toilet_flush", "thunderstorm", "crying_baby", "sneezing",
    "clapping", "breathing", "coughing", "footsteps", "laughing", "brushing_teeth", "snoring",
    "drinking_sipping", "door_wood_knock", "mouse_click", "keyboard_typing",
    "door_wood_creaks", "can_opening", "washing_machine", "vacuum_cleaner", "clock_alarm",
    "clock_tick", "glass_breaking", "helicopter", "chainsaw", "siren", "car_horn", "engine",
    "train", "church_bells", "airplane", "fireworks", "hand_saw",
)  # fmt: skip
ESC10_IDS = (0, 1, 10, 11, 12, 20, 21, 38, 40, 41)  # ESC-50 targets flagged esc10=True

OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class AudioDatasetInfo:
    """Everything spectranet knows about one public audio dataset layout.

    Attributes
    ----------
    name : str
        Registry name (``urbansound8k``, ``esc50``, ``esc10``).
    folders : tuple of str
        Candidate folder names under ``$SPECTRANET_DATA/audio/``, first existing wins.
    metadata : str
        Metadata CSV, relative to the dataset folder.
    file_column, fold_column, label_column, class_column : str
        CSV columns: file name, fold number, original class id, class name.
    audio_dir : str
        Audio folder relative to the dataset folder; ``{fold}`` is replaced by the row's fold.
    class_ids : tuple of int
        Original class ids, in the order of the contiguous labels 0..K-1.
    class_names : tuple of str
        Class names, aligned with ``class_ids``.
    url, sha256 : str or None
        Official archive address and its sha256 (None where not known to us).
    filename : str or None
        Archive file name for a download (``UrbanSound8K.tar.gz``, ``ESC-50-master.zip``).
    subset_column : str or None
        Boolean CSV column selecting the rows of this dataset (ESC-10 inside ESC-50).
    license : str
        Licence of the audio.
    """

    name: str
    folders: tuple[str, ...]
    metadata: str
    file_column: str
    fold_column: str
    label_column: str
    class_column: str
    audio_dir: str
    class_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    url: str | None = None
    sha256: str | None = None
    filename: str | None = None
    subset_column: str | None = None
    license: str = ""

    @property
    def n_classes(self) -> int:
        """Number of classes K."""
        return len(self.class_names)

    @property
    def folder(self) -> str:
        """Official folder, the archive's top folder: the last of ``folders``."""
        return self.folders[-1]


_ESC50_COMMON: dict[str, Any] = dict(
    folders=("ESC-50", "ESC-50-master"),
    metadata="meta/esc50.csv",
    file_column="filename",
    fold_column="fold",
    label_column="target",
    class_column="category",
    audio_dir="audio",
    url="https://github.com/karoldvl/ESC-50/archive/master.zip",
    sha256=None,  # a moving branch archive: no fixed checksum exists
    filename="ESC-50-master.zip",
    license="CC BY-NC 3.0 (Freesound clips, see the dataset's README)",
)

_REGISTRY: dict[str, AudioDatasetInfo] = {
    info.name: info
    for info in (
        AudioDatasetInfo(
            name="urbansound8k",
            folders=("urbansound8k_subset", "UrbanSound8K"),
            metadata="metadata/UrbanSound8K.csv",
            file_column="slice_file_name",
            fold_column="fold",
            label_column="classID",
            class_column="class",
            audio_dir="audio/fold{fold}",
            class_ids=tuple(range(10)),
            class_names=URBANSOUND8K_CLASSES,
            url="https://zenodo.org/records/1203745/files/UrbanSound8K.tar.gz",
            sha256=None,  # Zenodo publishes an md5 only; no sha256 verified by us
            filename="UrbanSound8K.tar.gz",
            license="CC BY-NC 3.0",
        ),
        AudioDatasetInfo(
            name="esc50", class_ids=tuple(range(50)), class_names=ESC50_CLASSES, **_ESC50_COMMON
        ),
        AudioDatasetInfo(
            name="esc10",
            class_ids=ESC10_IDS,
            class_names=tuple(ESC50_CLASSES[i] for i in ESC10_IDS),
            subset_column="esc10",
            **_ESC50_COMMON,
        ),
    )
}


def list_datasets() -> list[str]:
    """Names of the registered audio datasets, sorted."""
    return sorted(_REGISTRY)


def get_dataset_info(name: str) -> AudioDatasetInfo:
    """Return the registry record of dataset ``name``.

    Raises
    ------
    ConfigError
        If ``name`` is not registered.
    """
    if name not in _REGISTRY:
        raise ConfigError(f"dataset must be one of {list_datasets()}, got {name!r}")
    return _REGISTRY[name]


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
    """

    path: Path
    label: int
    fold: int | None
    clip_id: int
    name: str


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

    @property
    def labels(self) -> np.ndarray:
        """Contiguous labels, shape (n_clips,), int64."""
        return np.array([r.label for r in self.records], dtype=np.int64)

    @property
    def folds(self) -> np.ndarray:
        """Fold of each clip, shape (n_clips,), int64; -1 where the layout has no folds."""
        return np.array([-1 if r.fold is None else r.fold for r in self.records], dtype=np.int64)

    @property
    def folds_present(self) -> list[int]:
        """Sorted folds that occur in the table (empty without folds)."""
        return sorted({r.fold for r in self.records if r.fold is not None})


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
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in required if c not in columns]
        if missing:
            raise DataError(f"{path}: expected columns {list(required)}, missing {missing}")
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def _to_int(value: str, path: Path, line: int, column: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataError(
            f"{path} line {line}: column {column!r} must be an integer, got {value!r}"
        ) from None


def _dataset_folder(info: AudioDatasetInfo, root: str | os.PathLike[str] | None) -> Path:
    base = data_home() if root is None else Path(root).expanduser()
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


def _collect(
    rows: list[tuple[str, int, int | None, Callable[[], Path]]],
    on_error: OnError,
) -> tuple[list[ClipRecord], list[tuple[str, str]]]:
    records: list[ClipRecord] = []
    skipped: list[tuple[str, str]] = []
    for name, label, fold, resolve in rows:
        try:
            path = resolve()
        except (DataError, DataNotFoundError) as err:
            if on_error == "raise":
                raise
            skipped.append((name, str(err)))
            continue
        records.append(ClipRecord(path, label, fold, len(records), name))
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
    table = _read_csv(meta, columns + ([info.subset_column] if info.subset_column else []))
    position = {cid: k for k, cid in enumerate(info.class_ids)}
    index = _StemIndex()
    rows: list[tuple[str, int, int | None, Callable[[], Path]]] = []
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
        rows.append((name, label, fold, lambda a=audio, n=name: index.resolve(a, n)))
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
    rows: list[tuple[str, int, int | None, Callable[[], Path]]] = []
    present: set[int] = set()
    for line, row in enumerate(table, start=2):
        if not row["file"] or not row["label"]:
            raise DataError(f"{meta} line {line}: expected non-empty file and label, got {row}")
        fold = _to_int(row["fold"], meta, line, "fold") if has_fold else None
        if fold is not None:
            present.add(fold)
            if folds is not None and fold not in folds:
                continue
        name = row["file"]
        rows.append((name, to_label[row["label"]], fold, lambda n=name: index.resolve(folder, n)))
    _check_folds(folds, sorted(present), str(meta))
    records, skipped = _collect(rows, on_error)
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
        ``fold``; a CSV path works too. User labels map to 0..K-1 in sorted order (numeric
        when every label is an integer).
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
    if name in _REGISTRY:
        return _load_registered(_REGISTRY[name], root, folds, on_error)
    path = Path(name).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"dataset_or_dir must be one of {list_datasets()} or an existing folder, got {name!r}"
        )
    return _load_user(path, folds, on_error)


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
    try:
        y, file_sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise DataError(f"{name}: cannot decode audio ({err})") from None
    if y.shape[0] == 0:
        raise DataError(f"{name}: expected at least one sample, got 0")
    if not np.isfinite(y).all():
        raise DataError(f"{name}: expected finite samples, got NaN or inf")
    out = y.mean(axis=1) if mono else y.T
    if sr is not None and sr != file_sr:
        import librosa

        out = librosa.resample(out, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq", axis=-1)
    return np.ascontiguousarray(out, dtype=np.float32)


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
