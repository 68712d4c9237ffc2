"""Train, predict and export never overwrite a file they did not write (issue 26, item 4).

A crop of Indian Pines is trained once (two seeds, one epoch); each case then gives a command
an output it must refuse, and checks the one ``error:`` line, the exit code and that nothing
changed.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spectranet.cli import main
from spectranet.engine.ownership import LOCK, MARKER, FolderLock
from spectranet.engine.runs import RunDir
from spectranet.errors import ConfigError, DataError
from spectranet.hsi.readers import read_array


def _error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def crop(data_root, tmp_path_factory):
    """A 30 x 30 crop of Indian Pines (classes 2, 10 and 11) as .npy files."""
    folder = tmp_path_factory.mktemp("crop")
    src = data_root / "hsi" / "indian_pines"
    cube = read_array(src / "Indian_pines_corrected.mat", ndim=3)[60:90, 60:90]
    gt = read_array(src / "Indian_pines_gt.mat", ndim=2)[60:90, 60:90]
    np.save(folder / "cube.npy", cube.astype(np.float32))
    np.save(folder / "gt.npy", gt.astype(np.int64))
    return folder


def _train_args(crop: Path, out: Path, *extra: str) -> list[str]:
    return ["hsi", "train", "--cube", str(crop / "cube.npy"), "--gt", str(crop / "gt.npy"),
            "--preset", "quick", "--model", "conv2d", "--window", "5", "--components", "4",
            "--epochs", "1", "--out", str(out), "--no-progress", *extra]


@pytest.fixture(scope="module")
def run(crop, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ip"
    assert main(_train_args(crop, out, "--seeds", "0", "1")) == 0
    return out


def _copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to, symlinks=True)
    (to / LOCK).unlink(missing_ok=True)
    return to


def test_a_run_folder_is_marked_first_and_unlocked_when_done(run):
    marker = json.loads((run / MARKER).read_text())
    assert marker["kind"] == "run" and marker["domain"] == "hsi"
    assert marker["data_fingerprint"] == json.loads((run / "config.json").read_text())[
        "data_fingerprint"]
    assert not (run / LOCK).exists()
    log = (run / "run.log").read_text()
    assert "hsi run into" in log and "finished: overall_accuracy" in log


def test_a_users_folder_with_only_a_config_json_is_refused(crop, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text('{"config": {}, "my": "settings"}')
    (mine / "report.md").write_text("my report")
    before = _snapshot(mine)
    assert main(_train_args(crop, mine)) == 1
    assert (f"error: {mine}: folder holds files (config.json, report.md) that spectranet did "
            "not write") in _error(capsys)
    assert _snapshot(mine) == before


def test_a_run_written_before_markers_is_still_recognised(run, crop, tmp_path, capsys):
    old = _copy(run, tmp_path / "old")
    (old / MARKER).unlink()  # as committed runs under docs/results were written
    metrics = (old / "metrics.json").read_bytes()
    assert main(["hsi", "evaluate", str(old), "--no-progress"]) == 0
    assert main(_train_args(crop, old, "--seeds", "0", "1")) == 0  # the finished run again
    assert json.loads((old / "metrics.json").read_bytes()) == json.loads(metrics)
    assert json.loads((old / MARKER).read_text())["kind"] == "run"  # claimed now
    older = _copy(run, tmp_path / "older")  # before runs recorded their data's fingerprint
    (older / MARKER).unlink()
    saved = json.loads((older / "config.json").read_text())
    del saved["data_fingerprint"]
    (older / "config.json").write_text(json.dumps(saved))
    capsys.readouterr()
    assert main(_train_args(crop, older, "--seeds", "0", "1")) == 1
    assert "config.json: no data fingerprint recorded (written by an older spectranet)" \
        in _error(capsys)
    unfinished = _copy(run, tmp_path / "unfinished")
    (unfinished / MARKER).unlink()
    (unfinished / "metrics.json").unlink()  # old identity files but no finished metrics
    capsys.readouterr()
    assert main(_train_args(crop, unfinished, "--seeds", "0", "1")) == 1
    assert "that spectranet did not write (no .spectranet.json)" in _error(capsys)


def test_a_second_process_writing_the_same_run_is_refused(crop, tmp_path, capsys):
    out = tmp_path / "locked"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir()
        (out / LOCK).write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                            "since": "now"}))
        assert main(_train_args(crop, out)) == 1
        assert (f"error: {out}: another spectranet process (pid {holder.pid} on "
                f"{socket.gethostname()}, since now) is writing this folder") in _error(capsys)
        assert sorted(p.name for p in out.iterdir()) == [LOCK]  # nothing else written
    finally:
        holder.kill()
        holder.wait()
    # the holder is dead now: its lock is stale and taken over
    assert main(_train_args(crop, out)) == 0
    assert (out / "metrics.json").is_file() and not (out / LOCK).exists()


def test_a_lock_on_another_host_is_not_taken_over(tmp_path):
    (tmp_path / LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere", "since": "x"}))
    with pytest.raises(ConfigError, match=r"another spectranet process \(pid 1 on elsewhere"):
        FolderLock(tmp_path)
    assert json.loads((tmp_path / LOCK).read_text())["host"] == "elsewhere"


def test_links_in_a_run_folder_are_not_written_through(run, crop, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "map.png").write_bytes(b"mine")
    (outside / "notes.txt").write_text("my notes\n")
    linked = _copy(run, tmp_path / "linked")
    shutil.rmtree(linked / "seed_0" / "figures")
    (linked / "seed_0" / "figures").symlink_to(outside)
    assert main(_train_args(crop, linked, "--seeds", "0", "1")) == 1
    assert f"error: {linked / 'seed_0' / 'figures'}: a symbolic link inside an output folder" \
        in _error(capsys)
    assert (outside / "map.png").read_bytes() == b"mine"
    # the writers refuse on their own too: a run.log or figures/ linked out of the folder
    folder = tmp_path / "writer"
    folder.mkdir()
    (folder / "run.log").symlink_to(outside / "notes.txt")
    with pytest.raises(DataError, match=r"run.log: a symbolic link \(to .*notes.txt\)"):
        RunDir(folder)
    (folder / "run.log").unlink()
    (folder / "figures").symlink_to(outside)
    with pytest.raises(DataError, match=r"figures/x: leads out of .* through a symbolic link"):
        RunDir(folder)
    assert (outside / "notes.txt").read_text() == "my notes\n"
    assert sorted(p.name for p in outside.iterdir()) == ["map.png", "notes.txt"]


def test_predict_never_overwrites_a_users_files(run, crop, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "map.npy").write_bytes(b"my map")
    args = ["hsi", "predict", str(run), str(crop / "cube.npy"), "--no-progress"]
    assert main([*args, "--out", str(mine)]) == 1
    assert f"error: {mine}: folder holds files (map.npy) that spectranet did not write" \
        in _error(capsys)
    assert _snapshot(mine) == {"map.npy": b"my map"}
    assert main([*args, "--out", str(run)]) == 1  # a run folder is not a prediction's
    assert f"error: {run}: holds spectranet's run output, not a hsi predict's" in _error(capsys)
    out = tmp_path / "pred"
    assert main([*args, "--out", str(out)]) == 0
    assert main([*args, "--out", str(out)]) == 0  # its own folder: written again
    assert json.loads((out / MARKER).read_text())["kind"] == "hsi predict"
    assert "hsi predict" in (out / "run.log").read_text() and not (out / LOCK).exists()
    link = tmp_path / "pred_link"
    shutil.copytree(out, link)
    (link / "figures" / "map.png").unlink()
    (link / "figures" / "map.png").symlink_to(tmp_path / "mine" / "map.npy")
    capsys.readouterr()
    assert main([*args, "--out", str(link)]) == 1
    assert "figures/map.png: a symbolic link inside an output folder" in _error(capsys)
    assert (mine / "map.npy").read_bytes() == b"my map"


def test_export_needs_force_to_replace_a_file_it_did_not_write(run, tmp_path, capsys):
    pytest.importorskip("torch")
    target = tmp_path / "model.pt"
    target.write_bytes(b"my model")
    args = ["export", str(run), "--format", "torchscript", "--out", str(target)]
    assert main(args) == 1
    assert (f"error: {target}: exists and is not a model spectranet exported (with its sidecar "
            "model.pt.json); pass --force") in _error(capsys)
    assert target.read_bytes() == b"my model" and not Path(f"{target}.json").exists()
    assert main([*args, "--force"]) == 0
    assert target.read_bytes() != b"my model"
    assert main(args) == 0  # an earlier export is replaced without --force
    Path(f"{target}.json").write_text('{"mine": true}')
    capsys.readouterr()
    assert main(args) == 1  # a sidecar the export did not write
    assert "pass --force" in _error(capsys)


def test_a_missing_seed_checkpoint_is_not_replaced_by_another_seed(run, crop, tmp_path,
                                                                   capsys):
    gone = _copy(run, tmp_path / "gone")
    (gone / "seed_1" / "checkpoint.pt").unlink()
    for args in (["hsi", "predict", str(gone), str(crop / "cube.npy"), "--out",
                  str(tmp_path / "p"), "--no-progress"],
                 ["export", str(gone), "--format", "torchscript", "--out", str(tmp_path / "m")]):
        assert main(args) == 1
        assert (f"error: {gone / 'seed_1' / 'checkpoint.pt'}: missing (the unit did not "
                "finish, or the file was removed); seeds with a checkpoint: 0; give one with "
                "--seed") in _error(capsys)
    assert not (tmp_path / "p").exists() and not (tmp_path / "m").exists()
    assert main(["export", str(gone), "--format", "torchscript", "--seed", "0", "--out",
                 str(tmp_path / "m.pt")]) == 0
    assert json.loads((tmp_path / "m.pt.json").read_text())["seed"] == 0


def test_the_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    lock = FolderLock(tmp_path)
    assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    lock.release()
    assert not (tmp_path / LOCK).exists()


def test_checkpoint_metadata_is_bounded_by_its_weights(run, crop, tmp_path, capsys):
    from spectranet.engine.checkpoints import load_checkpoint, save_checkpoint

    forged = _copy(run, tmp_path / "forged")
    for seed in (0, 1):  # the sums are recomputed: only the metadata lies
        path = forged / f"seed_{seed}" / "checkpoint.pt"
        state = load_checkpoint(path)
        state["metadata"]["model_kwargs"]["n_classes"] = 10**9
        save_checkpoint(state, path)
    assert main(["hsi", "predict", str(forged), str(crop / "cube.npy"), "--out",
                 str(tmp_path / "p"), "--no-progress"]) == 1
    err = _error(capsys)
    assert err.startswith(f"error: {forged / 'seed_0' / 'checkpoint.pt'}: the checkpoint's "
                          "metadata describes ") and "1000000000" in err
    assert "but its weights hold (3" in err and not (tmp_path / "p").exists()


def test_a_config_json_with_an_unknown_key_is_named(run, tmp_path, capsys):
    odd = _copy(run, tmp_path / "odd")
    saved = json.loads((odd / "config.json").read_text())
    saved["config"]["colour"] = "blue"
    (odd / "config.json").write_text(json.dumps(saved))
    assert main(["hsi", "evaluate", str(odd), "--no-progress"]) == 1
    assert _error(capsys).startswith(f"error: {odd / 'config.json'}: unknown option(s) colour; "
                                     "valid: ")


@pytest.fixture(scope="module")
def sound_run(us8k_folder, tmp_path_factory):
    """A one-epoch sound run on real UrbanSound8K clips (two classes, test fold 3)."""
    base = tmp_path_factory.mktemp("sound")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPECTRANET_CACHE", str(base / "cache"))
        clips = us8k_folder(base / "clips", {1: 2, 2: 2, 3: 2}, classes={"dog_bark", "siren"})
        out = base / "run"
        assert main(["audio", "train", "--dataset", str(clips), "--preset", "quick", "--folds",
                     "3", "--filters", "4,4,8,8", "--epochs", "1", "--out", str(out),
                     "--no-progress"]) == 0
    return out, clips


def test_sound_run_and_prediction_logs_hold_what_was_printed(sound_run, tmp_path, capsys):
    out, clips = sound_run
    log = (out / "run.log").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert "audio run into" in log
    assert f"finished: clip_accuracy {metrics['clip_accuracy']:.4f}" in log
    clip = sorted(clips.glob("*.flac"))[0]
    pred = tmp_path / "pred"
    capsys.readouterr()
    assert main(["audio", "predict", str(out), str(clip), "--out", str(pred),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out.splitlines()[0]
    assert printed in (pred / "run.log").read_text()
    assert json.loads((pred / MARKER).read_text())["kind"] == "audio predict"


def test_sound_predict_never_overwrites_a_users_files(sound_run, tmp_path, capsys):
    out, clips = sound_run
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "predictions.csv").write_text("my,predictions\n")
    clip = sorted(clips.glob("*.flac"))[0]
    assert main(["audio", "predict", str(out), str(clip), "--out", str(mine),
                 "--no-progress"]) == 1
    assert f"error: {mine}: folder holds files (predictions.csv) that spectranet did not " \
        "write" in _error(capsys)
    assert _snapshot(mine) == {"predictions.csv": b"my,predictions\n"}


def test_sound_predict_refuses_a_cut_wav_before_writing(sound_run, tmp_path, capsys):
    import soundfile as sf

    out, clips = sound_run
    y, sr = sf.read(sorted(clips.glob("*.flac"))[0], dtype="float32")
    wav = tmp_path / "cut.wav"
    sf.write(wav, y, sr, subtype="PCM_16")
    data = wav.read_bytes()
    wav.write_bytes(data[:len(data) // 2])
    assert main(["audio", "predict", str(out), str(wav), "--out", str(tmp_path / "p"),
                 "--no-progress"]) == 1
    assert _error(capsys).startswith(f"error: {wav}: cut short: its header declares ")
    assert not (tmp_path / "p").exists()
