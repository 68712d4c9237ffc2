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
    (clips / "sub").mkdir()  # the same file spelled through a sub-folder
    _write_rows(clips, [*rows, {"file": f"sub/../{source['file']}", "label": source["label"],
                                "fold": "2"}])
    assert _train(clips, out) == 1
    assert (f"error: {clips}: {source['file']} (fold 1) and sub/../{source['file']} (fold 2) "
            "hold the same audio") in _error(capsys)
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
    assert main(["audio", "evaluate", str(out), "--no-progress"]) == 1
    assert (f"error: {out}: its data changed since it was trained ({clips}: content "
            "fingerprint ") in _error(capsys)


@pytest.fixture(scope="module")
def hsi_run(data_root, tmp_path_factory):
    """An Indian Pines crop (classes 2, 10, 11) trained from its own folder with relative
    paths, one epoch."""
    from spectranet.hsi.readers import read_array

    base = tmp_path_factory.mktemp("hsi")
    src = data_root / "hsi" / "indian_pines"
    np.save(base / "cube.npy", read_array(src / "Indian_pines_corrected.mat", ndim=3)[60:90, 60:90]
            .astype(np.float32))
    np.save(base / "gt.npy", read_array(src / "Indian_pines_gt.mat", ndim=2)[60:90, 60:90]
            .astype(np.int64))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        assert main(["hsi", "train", "--cube", "cube.npy", "--gt", "gt.npy", "--preset", "quick",
                     "--model", "conv2d", "--window", "5", "--components", "4", "--epochs", "1",
                     "--out", "run", "--no-progress"]) == 0
    return base


def _evaluated(run, capsys):
    capsys.readouterr()
    code = main(["hsi", "evaluate", str(run), "--no-progress"])
    return code, capsys.readouterr()


def test_evaluate_reads_the_runs_own_files_from_anywhere(hsi_run, tmp_path, monkeypatch,
                                                         capsys):
    metrics = json.loads((hsi_run / "run" / "metrics.json").read_text())
    np.save(tmp_path / "cube.npy", np.zeros((30, 30, 200), np.float32))  # same names here
    np.save(tmp_path / "gt.npy", np.ones((30, 30), np.int64))
    monkeypatch.chdir(tmp_path)
    code, out = _evaluated(hsi_run / "run", capsys)
    assert code == 0, out.err
    assert f"overall_accuracy: {100 * metrics['overall_accuracy']:.2f} %" in out.out


def test_evaluate_refuses_data_that_changed(hsi_run, tmp_path, capsys):
    gt = np.load(hsi_run / "gt.npy")
    swapped = gt.copy()
    swapped[gt == 2], swapped[gt == 10] = 10, 2
    np.save(hsi_run / "gt.npy", swapped)
    try:
        code, out = _evaluated(hsi_run / "run", capsys)
    finally:
        np.save(hsi_run / "gt.npy", gt)
    assert code == 1
    assert out.err.startswith(f"error: {hsi_run / 'run'}: its data changed since it was "
                              f"trained ({hsi_run / 'cube.npy'}, {hsi_run / 'gt.npy'}: "
                              "data fingerprint ")
    other = shutil.copytree(hsi_run / "run", tmp_path / "other")
    saved = json.loads((other / "config.json").read_text())
    np.save(tmp_path / "cube.npy", np.load(hsi_run / "cube.npy")[::-1])
    saved["config"]["cube"] = str(tmp_path / "cube.npy")  # pointed at another cube
    (other / "config.json").write_text(json.dumps(saved))
    code, out = _evaluated(other, capsys)
    assert code == 1 and "its data changed since it was trained" in _line(out.err)


def _line(err):
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_evaluate_refuses_an_edited_split(hsi_run, tmp_path, capsys):
    run = shutil.copytree(hsi_run / "run", tmp_path / "run")
    split = json.loads((run / "seed_0" / "split.json").read_text())
    split["test"] = split["train"]  # a replaced test set
    (run / "seed_0" / "split.json").write_text(json.dumps(split, indent=2) + "\n")
    code, out = _evaluated(run, capsys)
    assert code == 1
    assert _line(out.err) == (f"error: {run / 'seed_0' / 'split.json'}: sha256 differs from the "
                              "one recorded when the run wrote it (the split was edited or "
                              "damaged); restore it, or retrain\n")
