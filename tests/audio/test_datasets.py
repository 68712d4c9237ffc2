from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from spectranet.audio.datasets import load_clips
from spectranet.audio.decoding import decode_audio, load_audio
from spectranet.audio.registry import ESC50_CLASSES, get_dataset_info, list_datasets
from spectranet.errors import ConfigError, DataError, DataNotFoundError

SR = 22050


def _tone(n: int = 2205, sr: int = SR, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = 0.1 * rng.standard_normal((n, channels)).astype(np.float32)
    return y[:, 0] if channels == 1 else y


def _write(path: Path, fmt: str = "WAV", **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, _tone(**kw), kw.get("sr", SR), format=fmt)
    return path


@pytest.fixture
def esc50_root(tmp_path: Path) -> Path:
    """A fake ESC-50 in the real layout; two clips are stored as FLAC under .wav names."""
    folder = tmp_path / "audio" / "ESC-50"
    rows = [  # filename, fold, target, esc10
        ("1-100032-A-0.wav", 1, 0, True),
        ("1-100038-A-14.wav", 1, 14, False),
        ("2-200000-A-40.wav", 2, 40, True),
        ("3-300000-A-38.wav", 3, 38, True),
        ("4-400000-A-49.wav", 4, 49, False),
    ]
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for i, (name, fold, target, esc10) in enumerate(rows):
        lines.append(f"{name},{fold},{target},{ESC50_CLASSES[target]},{esc10},{i},A")
        stem = Path(name).stem
        if i % 2:
            _write(folder / "audio" / f"{stem}.flac", fmt="FLAC", seed=i)
        else:
            _write(folder / "audio" / name, seed=i)
    (folder / "meta").mkdir(parents=True)
    (folder / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.fixture
def us8k_root(tmp_path: Path) -> Path:
    folder = tmp_path / "audio" / "UrbanSound8K"
    header = "slice_file_name,fsID,start,end,salience,fold,classID,class"
    rows = ["1-1-0-0.wav,1,0,1,1,1,1,car_horn", "2-8-0-0.wav,2,0,1,1,2,8,siren",
            "3-0-0-0.wav,3,0,1,1,3,0,air_conditioner"]  # fmt: skip
    (folder / "metadata").mkdir(parents=True)
    (folder / "metadata" / "UrbanSound8K.csv").write_text("\n".join([header, *rows]) + "\n")
    for row in rows:
        name, fold = row.split(",")[0], row.split(",")[5]
        _write(folder / "audio" / f"fold{fold}" / f"{Path(name).stem}.flac", fmt="FLAC")
    return tmp_path


def test_registry():
    assert list_datasets() == ["esc10", "esc50", "urbansound8k"]
    us = get_dataset_info("urbansound8k")
    assert us.folders[0] == "urbansound8k_subset" and us.n_classes == 10
    assert us.folder == "UrbanSound8K" and us.filename == "UrbanSound8K.tar.gz"
    assert get_dataset_info("esc50").folder == "ESC-50-master"
    assert us.url == "https://zenodo.org/records/1203745/files/UrbanSound8K.tar.gz"
    assert get_dataset_info("esc50").url.endswith("ESC-50/archive/master.zip")
    esc10 = get_dataset_info("esc10")
    assert esc10.class_names == (
        "dog",
        "rooster",
        "rain",
        "sea_waves",
        "crackling_fire",
        "crying_baby",
        "sneezing",
        "clock_tick",
        "helicopter",
        "chainsaw",
    )
    with pytest.raises(ConfigError, match="dataset must be one of"):
        get_dataset_info("esc100")


def test_esc50_layout_resolves_by_stem(esc50_root):
    table = load_clips("esc50", root=esc50_root)
    assert len(table) == 5 and len(table.class_names) == 50
    assert [r.clip_id for r in table.records] == list(range(5))
    assert table.labels.tolist() == [0, 14, 40, 38, 49]
    assert table.folds_present == [1, 2, 3, 4]
    assert table.records[1].path.suffix == ".flac" and table.records[1].name.endswith(".wav")
    assert all(r.path.stem == Path(r.name).stem for r in table.records)


def test_esc10_remaps_to_contiguous(esc50_root):
    table = load_clips("esc10", root=esc50_root)
    assert [r.name for r in table.records] == ["1-100032-A-0.wav", "2-200000-A-40.wav",
                                               "3-300000-A-38.wav"]  # fmt: skip
    assert table.labels.tolist() == [0, 8, 7]
    assert table.class_names[8] == "helicopter" and table.class_ids[8] == 40
    assert table.labels.max() < len(table.class_names) == 10


def test_folds_filter_and_absent_fold(esc50_root):
    table = load_clips("esc50", root=esc50_root, folds=[1, 3])
    assert table.folds.tolist() == [1, 1, 3]
    with pytest.raises(ConfigError, match=r"folds must be among those present .* got \[7\]"):
        load_clips("esc50", root=esc50_root, folds=[1, 7])
    assert table.cv_folds() == [1, 3] and table.cv_folds([3]) == [3]
    with pytest.raises(ConfigError, match=r"among the folds present \[1, 3\], got \[2\]"):
        table.cv_folds([2, 3])


def test_missing_file_raises_or_is_skipped(esc50_root):
    (esc50_root / "audio" / "ESC-50" / "audio" / "2-200000-A-40.wav").unlink()
    with pytest.raises(DataNotFoundError, match="2-200000-A-40"):
        load_clips("esc50", root=esc50_root)
    table = load_clips("esc50", root=esc50_root, on_error="skip")
    assert len(table) == 4 and len(table.skipped) == 1
    assert table.skipped[0][0] == "2-200000-A-40.wav"
    assert [r.clip_id for r in table.records] == list(range(4))
    with pytest.raises(ConfigError, match="on_error"):
        load_clips("esc50", root=esc50_root, on_error="ignore")


def test_class_name_mismatch_is_rejected(esc50_root):
    meta = esc50_root / "audio" / "ESC-50" / "meta" / "esc50.csv"
    meta.write_text(meta.read_text().replace(",0,dog,", ",0,cat,"))
    with pytest.raises(DataError, match="line 2: class of id 0 must be 'dog', got 'cat'"):
        load_clips("esc50", root=esc50_root)


def test_missing_dataset(tmp_path):
    with pytest.raises(DataNotFoundError, match="dataset 'esc50' not found"):
        load_clips("esc50", root=tmp_path)
    with pytest.raises(DataNotFoundError, match="dataset_or_dir must be one of"):
        load_clips(str(tmp_path / "nowhere"))


def test_urbansound8k_layout_and_direct_root(us8k_root):
    table = load_clips("urbansound8k", root=us8k_root)
    assert table.labels.tolist() == [1, 8, 0] and table.folds.tolist() == [1, 2, 3]
    direct = load_clips("urbansound8k", root=us8k_root / "audio" / "UrbanSound8K")
    assert [r.path for r in direct.records] == [r.path for r in table.records]


def test_user_folder_with_string_labels_and_folds(tmp_path):
    for i, (name, fmt) in enumerate([("a.wav", "WAV"), ("sub/b.flac", "FLAC"), ("c.ogg", "OGG")]):
        _write(tmp_path / name, fmt=fmt, seed=i)
    (tmp_path / "labels.csv").write_text(
        "file,label,fold\na.wav,dog,1\nsub/b.wav,cat,2\nc.wav,dog,3\n"
    )
    table = load_clips(tmp_path)
    assert table.class_names == ("cat", "dog") and table.labels.tolist() == [1, 0, 1]
    assert table.folds_present == [1, 2, 3]
    assert table.records[1].path == tmp_path / "sub" / "b.flac"


def test_user_folder_numeric_labels_without_folds(tmp_path):
    _write(tmp_path / "x.wav")
    _write(tmp_path / "y.wav", seed=1)
    (tmp_path / "meta.csv").write_text("file,label\nx.wav,7\ny.wav,3\n")
    table = load_clips(tmp_path / "meta.csv")
    assert table.class_ids == (3, 7) and table.class_names == ("3", "7")
    assert table.labels.tolist() == [1, 0] and table.folds.tolist() == [-1, -1]
    assert table.folds_present == []
    with pytest.raises(ConfigError, match="no fold column"):
        load_clips(tmp_path, folds=[1])
    with pytest.raises(ConfigError, match="meta: the clips have no folds"):
        table.cv_folds(name="meta")


@pytest.mark.parametrize("rows", ["a.wav,dog,1\na.wav,dog,2\n", "a.wav,dog,1\na.wav,cat,1\n"])
def test_user_csv_with_a_file_twice_is_refused(tmp_path, rows):
    _write(tmp_path / "a.wav")
    (tmp_path / "labels.csv").write_text("file,label,fold\n" + rows)
    with pytest.raises(DataError, match=r"labels.csv line 3: a.wav is already on line 2 "
                                        r"\(label 'dog', fold 1; here"):
        load_clips(tmp_path)


def test_user_folder_bad_csv(tmp_path):
    (tmp_path / "labels.csv").write_text("path,class\nx.wav,a\n")
    with pytest.raises(DataError, match=r"expected columns \['file', 'label'\]"):
        load_clips(tmp_path)


def test_load_audio_downmix_and_resample(tmp_path):
    stereo = _write(tmp_path / "s.wav", channels=2, n=4410, sr=44100)
    y = load_audio(stereo)
    assert y.dtype == np.float32 and y.shape == (2205,)
    raw, _ = sf.read(stereo, dtype="float32")
    assert np.allclose(load_audio(stereo, sr=None), raw.mean(axis=1))
    assert load_audio(stereo, sr=None, mono=False).shape == (2, 4410)


def test_load_audio_bad_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="audio file not found: .*missing.wav"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(DataError, match="empty.wav: expected audio, got an empty file"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(DataError, match="junk.wav: cannot decode audio"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(DataError, match="zero.wav: expected at least one sample, got 0"):
        load_audio(tmp_path / "zero.wav")
    with pytest.raises(ConfigError, match="sr must be a positive integer"):
        decode_audio(b"x", sr=0)


def test_real_urbansound8k(data_root):
    table = load_clips("urbansound8k", root=data_root)
    assert len(table) == 2003 and table.folds_present == [1, 2, 3, 10]
    assert table.source == "urbansound8k" and len(table.class_names) == 10
    counts = {f: int((table.folds == f).sum()) for f in table.folds_present}
    assert counts == {1: 551, 2: 557, 3: 350, 10: 545}
    fold3 = table.labels[table.folds == 3]
    assert int((fold3 == 8).sum()) == 7 and int((fold3 == 1).sum()) == 13  # siren, car_horn
    assert all(r.path.suffix == ".flac" and r.name.endswith(".wav") for r in table.records)
    assert all(r.path.stem == Path(r.name).stem for r in table.records)
    assert all(r.path.parent.name == f"fold{r.fold}" for r in table.records)
    only = load_clips("urbansound8k", root=data_root, folds=[3])
    assert len(only) == 350 and only.records[0].clip_id == 0
