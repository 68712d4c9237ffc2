"""Bad input gives one ``error:`` line naming the file or option, exit 1, nothing written
(issue 26, items 2, 3, 5 and 6): audio integrity, model specs against the window, forged
array headers, non-finite options, unreadable CSV files; warnings for constant bands.
"""

import csv
import json
import warnings

import numpy as np
import pytest
import soundfile as sf

from spectranet.audio.decoding import load_audio
from spectranet.audio.models import check_reach
from spectranet.cli import main
from spectranet.errors import ConfigError, DataError
from spectranet.hsi.datasets import read_cube
from spectranet.hsi.readers import read_array


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
    """Six real UrbanSound8K clips (two classes, folds 1-3) as a user folder."""
    return us8k_folder(tmp_path / "clips", {1: 1, 2: 1, 3: 1}, classes={"dog_bark", "siren"})


def _as_wav(folder, cut: bool):
    """Replace the folder's first clip by a 16-bit WAV of it, cut after half its data if
    ``cut``; return the WAV's path."""
    rows = list(csv.DictReader(open(folder / "labels.csv")))
    flac = folder / rows[0]["file"]
    y, sr = sf.read(flac, dtype="float32")
    wav = flac.with_suffix(".wav")
    sf.write(wav, y, sr, subtype="PCM_16")
    flac.unlink()
    if cut:
        data = wav.read_bytes()
        wav.write_bytes(data[:44 + (len(data) - 44) // 2])
    return wav


def test_a_wav_shorter_than_its_header_is_refused_or_skipped(clips, capsys):
    whole = _as_wav(clips, cut=False)
    assert len(load_audio(whole)) > 0
    data = whole.read_bytes()
    declared = int.from_bytes(data[40:44], "little")
    whole.write_bytes(data[:44 + declared // 2])
    assert main(["audio", "features", "--dataset", str(clips), "--no-progress"]) == 1
    assert (f"error: {whole}: cut short: its header declares {declared} bytes of samples, "
            f"{declared // 2} are present") in _error(capsys)
    assert main(["audio", "features", "--dataset", str(clips), "--skip-bad-files",
                 "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clips"] == 6  # listed; its windows are not extracted
    assert summary["skipped"] == [[str(whole), f"{whole}: cut short: its header declares "
                                               f"{declared} bytes of samples, "
                                               f"{declared // 2} are present"]]


def test_dataset_rows_must_stay_inside_the_folder(clips, tmp_path, capsys):
    (tmp_path / "outside.wav").write_bytes(b"not read")
    text = (clips / "labels.csv").read_text()
    for row in ("../outside.wav,dog_bark,1", "/etc/passwd,dog_bark,1",
                "sub/../../outside.wav,siren,2"):
        (clips / "labels.csv").write_text(text + row + "\n")
        assert main(["audio", "features", "--dataset", str(clips), "--no-progress"]) == 1
        name = row.split(",")[0]
        assert (f"error: {clips / 'labels.csv'} line 8: file {name!r} is outside the dataset "
                f"folder {clips}") in _error(capsys)
    assert not (tmp_path / "cache").exists()  # refused before any audio file was read


@pytest.mark.parametrize("content, message", [
    ("file,label,fold\nchien.flac,caf\xe9,1\n".encode("latin-1"),
     "line 2: not UTF-8 text (byte 0xe9 at offset 30); save the CSV as UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text CSV (it holds NUL bytes at offset 8)"),
])
def test_a_labels_csv_that_is_not_utf8_text_is_named(clips, capsys, content, message):
    (clips / "labels.csv").write_bytes(content)
    assert main(["audio", "features", "--dataset", str(clips), "--no-progress"]) == 1
    assert f"error: {clips / 'labels.csv'}" in (err := _error(capsys)) and message in err


def test_decode_errors_name_the_file(clips, capsys):
    wav = _as_wav(clips, cut=False)
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(64))
    assert main(["audio", "features", "--dataset", str(clips), "--no-progress"]) == 1
    err = _error(capsys)
    assert err.startswith(f"error: {wav}: cannot decode audio (") and "BytesIO" not in err


def test_a_kernel_wider_than_the_window_is_refused():
    check_reach("Cov1 + DilaCov1(20)", 64, 41)  # reach 41 = the 41 frames
    check_reach("table2_test6", 64, 41)
    with pytest.raises(ConfigError, match=r"^arch: DilaCov1\(21\) \(layer 2\) reaches 43 x 43 "
                                          r"bins \(3 x 3 taps at dilation 21\) but its input "
                                          r"window is 64 x 41 \(mel bands x frames\)"):
        check_reach("Cov1 + DilaCov1(21)", 64, 41)
    with pytest.raises(ConfigError, match=r"reaches 21 x 21 .* window is 32 x 20 \(mel bands x "
                                          r"frames after pooling\)"):
        check_reach("Cov1 + Max-pooling + DilaCov1(10)", 64, 41)


@pytest.mark.parametrize("preset", ["paper", "standard", "quick"])
def test_a_dilation_beyond_the_window_is_refused_under_every_preset(clips, tmp_path, capsys,
                                                                    preset):
    out = tmp_path / "run"
    assert main(["audio", "train", "--dataset", str(clips), "--preset", preset, "--arch",
                 "DilaCov1(100)", "--folds", "3", "--out", str(out), "--no-progress"]) == 1
    assert ("error: arch: DilaCov1(100) (layer 1) reaches 201 x 201 bins (3 x 3 taps at "
            "dilation 100) but its input window is 64 x 41") in _error(capsys)
    assert not out.exists()


@pytest.fixture
def crop(data_root, tmp_path):
    """A 30 x 30 crop of Indian Pines (classes 2, 10 and 11) as .npy files."""
    src = data_root / "hsi" / "indian_pines"
    cube = read_array(src / "Indian_pines_corrected.mat", ndim=3)[60:90, 60:90]
    gt = read_array(src / "Indian_pines_gt.mat", ndim=2)[60:90, 60:90]
    np.save(tmp_path / "cube.npy", cube.astype(np.float32))
    np.save(tmp_path / "gt.npy", gt.astype(np.int64))
    return tmp_path


def _train(crop, out, *extra):
    return main(["hsi", "train", "--cube", str(crop / "cube.npy"), "--gt", str(crop / "gt.npy"),
                 "--preset", "quick", "--model", "conv2d", "--window", "5", "--components",
                 "4", "--epochs", "1", "--out", str(out), "--no-progress", *extra])


def test_a_ground_truth_id_beyond_int32_is_refused(crop, capsys):
    gt = np.load(crop / "gt.npy")
    gt[gt == 10] = 10**12
    np.save(crop / "gt.npy", gt)
    assert _train(crop, crop / "run") == 1
    assert (f"error: {crop / 'gt.npy'}: label id 1000000000000 is too large; ids must be at "
            "most 2147483647 (int32)") in _error(capsys)
    assert not (crop / "run").exists()


def _forged_npy(path, shape, dtype="<f4"):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
        fh.write(bytes(64))


def test_npy_headers_declaring_terabytes_are_refused_before_allocating(crop, capsys):
    _forged_npy(crop / "big.npy", (10**6, 10**6, 200))
    assert main(["hsi", "train", "--cube", str(crop / "big.npy"), "--gt", str(crop / "gt.npy"),
                 "--out", str(crop / "run")]) == 1
    assert (f"error: {crop / 'big.npy'}: the .npy header declares shape (1000000, 1000000, "
            "200) of float32 (800,000,000,000,000 bytes) but 64 bytes follow it") \
        in _error(capsys)
    _forged_npy(crop / "split.npy", (30, 30, 10**12), "<i8")
    assert _train(crop, crop / "run", "--split-file", str(crop / "split.npy")) == 1
    assert f"error: {crop / 'split.npy'}: the .npy header declares shape (30, 30, " \
        in _error(capsys)
    assert not (crop / "run").exists()
    with open(crop / "big.npy", "rb") as fh:
        header = fh.read()
    import zipfile
    with zipfile.ZipFile(crop / "big.npz", "w") as z:
        z.writestr("cube.npy", header)
    with pytest.raises(DataError, match=r"big.npz \(cube.npy\): the .npy header declares"):
        read_array(crop / "big.npz")


@pytest.mark.parametrize("option, value", [("--lr", "nan"), ("--lr", "inf"),
                                           ("--weight-decay", "inf"), ("--lr", "-inf")])
def test_non_finite_numbers_are_refused(crop, capsys, option, value):
    assert _train(crop, crop / "run", option, value) == 1
    name = option.lstrip("-").replace("-", "_")
    assert f"error: {name} must be a number" in _error(capsys)
    assert not (crop / "run").exists()


def test_zero_variance_bands_and_constant_cubes_are_warned_about(crop, capsys):
    cube = np.load(crop / "cube.npy")
    cube[:, :, [3, 150]] = 7.0
    np.save(crop / "flat.npy", cube)
    with pytest.warns(UserWarning, match=r"flat.npy: 2 of 200 bands have zero variance "
                                         r"\(bands 3, 150, from 0\)"):
        read_cube(crop / "flat.npy")
    np.save(crop / "constant.npy", np.full((30, 30, 200), 5.0, np.float32))
    with pytest.warns(UserWarning, match=r"constant.npy: the cube is constant \(every value "
                                         r"is 5\); a model has nothing to learn"):
        read_cube(crop / "constant.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_cube(crop / "cube.npy")  # the real crop: no warning
    main(["hsi", "train", "--cube", str(crop / "constant.npy"), "--gt", str(crop / "gt.npy"),
          "--preset", "quick", "--model", "conv2d", "--window", "5", "--components", "4",
          "--epochs", "1", "--out", str(crop / "run"), "--no-progress"])
    assert "warning: " + str(crop / "constant.npy") + ": the cube is constant" \
        in capsys.readouterr().err
