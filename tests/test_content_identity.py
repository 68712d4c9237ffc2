"""Content identity (issue 26, item 1): a sound run knows its clips by their bytes.

Real UrbanSound8K clips: the same recording under another name in another fold is refused as
leakage, and a clip whose samples changed (same name, same size) is not mistaken for the data
of the run already in ``--out``.
"""

import csv
import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from spectranet.cli import main


def _error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRANET_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def clips(us8k_folder, tmp_path):
    return us8k_folder(tmp_path / "clips", {1: 2, 2: 2, 3: 2}, classes={"dog_bark", "siren"})


def _rows(folder):
    with open(folder / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_rows(folder, rows):
    with open(folder / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["file", "label", "fold"])
        writer.writeheader()
        writer.writerows(rows)


def _train(folder, out):
    return main(["audio", "train", "--dataset", str(folder), "--preset", "quick", "--folds", "3",
                 "--filters", "4,4,8,8", "--epochs", "1", "--out", str(out), "--no-progress"])


def test_a_copy_of_a_recording_in_another_fold_is_refused(clips, tmp_path, capsys):
    rows = _rows(clips)
    source = next(r for r in rows if r["fold"] == "1")
    shutil.copyfile(clips / source["file"], clips / "renamed_copy.flac")  # a real copy
    _write_rows(clips, [*rows, {"file": "renamed_copy.flac", "label": source["label"],
                                "fold": "3"}])
    out = tmp_path / "run"
    assert _train(clips, out) == 1
    assert (f"error: {clips}: {source['file']} (fold 1) and renamed_copy.flac (fold 3) hold the "
            "same audio (sha256 ") in _error(capsys)
    assert not out.exists()


def test_changed_samples_of_the_same_size_are_not_the_run_already_there(clips, tmp_path,
                                                                       capsys):
    rows = _rows(clips)
    first = clips / rows[0]["file"]
    y, sr = sf.read(first, dtype="float32")
    wav = first.with_suffix(".wav")
    first.unlink()
    sf.write(wav, y, sr, subtype="PCM_16")
    rows[0]["file"] = wav.name
    _write_rows(clips, rows)
    out = tmp_path / "run"
    assert _train(clips, out) == 0
    recorded = json.loads((out / "config.json").read_text())
    assert len(recorded["content_fingerprint"]) == 64
    finished = (out / "metrics.json").read_bytes()
    assert _train(clips, out) == 0  # the same bytes: the finished run
    size, before = wav.stat().st_size, wav.read_bytes()
    sf.write(wav, np.flip(y), sr, subtype="PCM_16")  # other samples, the same size
    assert wav.stat().st_size == size and wav.read_bytes() != before
    capsys.readouterr()
    assert _train(clips, out) == 1
    assert (f"error: {out}: the content of the input data changed since this run was written "
            "(same files and sizes, other bytes") in _error(capsys)
    assert (out / "metrics.json").read_bytes() == finished
