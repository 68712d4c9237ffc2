import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data folder; skip without it, but fail in CI where it must be present."""
    root = os.environ.get("SPECTRANET_DATA")
    if not root:
        if os.environ.get("CI"):
            pytest.fail("SPECTRANET_DATA is unset in CI")
        pytest.skip("SPECTRANET_DATA is unset: real-data test skipped")
    path = Path(root).resolve()
    if not path.is_dir():
        pytest.fail(f"SPECTRANET_DATA={root} is not a folder")
    return path


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def us8k_folder(data_root):
    """Build a user audio folder of real UrbanSound8K clips: ``make(folder, per_fold, ...)``.

    ``per_fold`` maps a fold to the clips taken per class; ``classes`` keeps only those
    classes; ``listed_suffix`` is the extension written in ``labels.csv`` (the files are
    ``.flac`` links, so ``".wav"`` exercises matching by stem).
    """
    import csv

    src = data_root / "audio" / "urbansound8k_subset"

    def make(folder: Path, per_fold: dict, *, classes=None, listed_suffix: str = ".flac") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        rows, taken = [], {}
        with open(src / "metadata" / "UrbanSound8K.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                fold, key = int(row["fold"]), (int(row["fold"]), row["class"])
                if ((classes is not None and row["class"] not in classes)
                        or taken.get(key, 0) >= per_fold.get(fold, 0)):
                    continue
                stem = Path(row["slice_file_name"]).stem
                (folder / f"{stem}.flac").symlink_to(src / "audio" / f"fold{fold}" / f"{stem}.flac")
                rows.append({"file": stem + listed_suffix, "label": row["class"], "fold": fold})
                taken[key] = taken.get(key, 0) + 1
        with open(folder / "labels.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, ["file", "label", "fold"])
            writer.writeheader()
            writer.writerows(rows)
        return folder

    return make
