"""Registry of the public audio dataset layouts: folders, metadata columns, URLs, class names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spectranet.errors import ConfigError

__all__ = ["AudioDatasetInfo", "ESC50_CLASSES", "URBANSOUND8K_CLASSES", "get_dataset_info",
           "list_datasets"]

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
    group_column : str or None
        CSV column naming each clip's source recording (UrbanSound8K ``fsID``, ESC-50
        ``src_file``): clips of one recording are kept on one side of a validation split.
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
    group_column: str | None = None

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
    group_column="src_file",
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
            group_column="fsID",
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
