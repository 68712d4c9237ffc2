"""Validation drawn from the training folds by source recording (``validation="group"``)."""

from pathlib import Path

import numpy as np
import pytest

from spectranet.audio.datasets import load_clips
from spectranet.audio.protocol import grouped_validation, round_split, validation_summary
from spectranet.audio.registry import ESC50_CLASSES
from spectranet.errors import ConfigError


@pytest.fixture(scope="module")
def us8k(data_root):
    """The real UrbanSound8K subset (folds 1, 2, 3, 10; 2,003 clips), with its fsIDs."""
    return load_clips("urbansound8k", root=data_root)


def test_the_group_is_the_fsid_of_the_metadata(us8k):
    # UrbanSound8K names a slice [fsID]-[classID]-[occurrenceID]-[sliceID].wav
    assert all(r.group == r.name.split("-")[0] for r in us8k.records)
    codes = us8k.groups
    for a, b in ((0, 1), (0, 500), (17, 1800)):
        assert (codes[a] == codes[b]) == (us8k[a].group == us8k[b].group)
    assert len(np.unique(codes)) == len({r.group for r in us8k.records}) == 456


@pytest.mark.parametrize("test_fold", [1, 3, 10])
def test_grouped_split_on_real_metadata(us8k, test_fold):
    labels, groups, folds = us8k.labels, us8k.groups, us8k.folds
    split = round_split(folds, test_fold, validation="group", labels=labels, groups=groups,
                        share=0.2, seed=0)
    train, val, test = split["train"], split["val"], split["test"]
    fsid = np.array([r.group for r in us8k.records])
    assert not set(fsid[train]) & set(fsid[val])  # no recording on both sides
    assert not set(folds[val]) & {test_fold}  # no clip of this round's test fold
    assert set(folds[val]) == set(us8k.folds_present) - {test_fold}  # drawn from every other
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(len(us8k)))
    assert np.array_equal(test, np.flatnonzero(folds == test_fold))
    share = val.size / (val.size + train.size)
    assert 0.18 < share < 0.22  # one of 5 stratified group folds
    p_train = np.bincount(labels[train], minlength=10) / train.size
    p_val = np.bincount(labels[val], minlength=10) / val.size
    assert np.abs(p_train - p_val).max() < 0.02  # class proportions kept (stratified)
    summary = validation_summary(split, folds, groups, "group")
    assert summary["clips"] == val.size and summary["recordings"] == len(set(fsid[val]))
    assert summary["folds"] == sorted(set(us8k.folds_present) - {test_fold})


def test_grouped_split_is_seeded(us8k):
    def draw(seed):
        return round_split(us8k.folds, 1, validation="group", labels=us8k.labels,
                           groups=us8k.groups, seed=seed)["val"]

    assert np.array_equal(draw(3), draw(3))
    assert not np.array_equal(draw(3), draw(4))


def test_the_share_is_one_of_round_one_over_share_folds(us8k):
    candidates = np.flatnonzero(us8k.folds != 1)
    _, val = grouped_validation(us8k.labels, us8k.groups, candidates, share=0.3, seed=0)
    assert 0.30 < val.size / candidates.size < 0.37  # 1 / round(1 / 0.3) = 1 / 3


def test_bad_shares_and_too_few_recordings_refused():
    labels, groups = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])
    for share in (0, 0.6, True, "0.2"):
        with pytest.raises(ConfigError, match=r"^val_share must be a number in \(0, 0.5\], got"):
            grouped_validation(labels, groups, np.arange(4), share=share)
    with pytest.raises(ConfigError, match=r"^val_share: the training folds hold 2 recordings, "
                                          r"fewer than the 5 that a validation share of 0.2 "
                                          r"needs$"):
        grouped_validation(labels, groups, np.arange(4), share=0.2)
    with pytest.raises(ConfigError, match="needs the clips' labels and groups"):
        round_split(np.array([1, 2, 3, 3]), 1, validation="group")


def test_esc50_groups_by_source_file(tmp_path: Path):
    import soundfile as sf

    folder = tmp_path / "audio" / "ESC-50"
    (folder / "audio").mkdir(parents=True)
    (folder / "meta").mkdir()
    rows = [("1-100032-A-0.wav", 1, 0, "100032"), ("1-100032-B-0.wav", 1, 0, "100032"),
            ("2-200000-A-40.wav", 2, 40, "200000")]
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for name, fold, target, src in rows:
        lines.append(f"{name},{fold},{target},{ESC50_CLASSES[target]},True,{src},A")
        sf.write(folder / "audio" / name, np.zeros(2205, np.float32), 22050)
    (folder / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    clips = load_clips("esc50", root=tmp_path)
    assert [r.group for r in clips.records] == ["100032", "100032", "200000"]
    codes = clips.groups
    assert codes[0] == codes[1] != codes[2]


def test_user_folder_group_column_or_one_group_per_clip(tmp_path: Path):
    import soundfile as sf

    for name in ("a.wav", "b.wav", "c.wav"):
        sf.write(tmp_path / name, np.zeros(2205, np.float32), 22050)
    (tmp_path / "labels.csv").write_text("file,label,fold\na.wav,x,1\nb.wav,y,1\nc.wav,x,2\n")
    clips = load_clips(tmp_path)
    assert [r.group for r in clips.records] == [None, None, None]
    assert len(set(clips.groups.tolist())) == 3  # no recording id: each clip its own group
    (tmp_path / "labels.csv").write_text(
        "file,label,fold,group\na.wav,x,1,r1\nb.wav,y,1,r1\nc.wav,x,2,\n")
    clips = load_clips(tmp_path)
    assert [r.group for r in clips.records] == ["r1", "r1", None]
    codes = clips.groups
    assert codes[0] == codes[1] != codes[2]
