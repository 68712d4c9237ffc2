import hashlib
import pickle
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from spectranet.audio import extraction as X
from spectranet.audio import features as F
from spectranet.audio.cache import CachedWindows, FeatureCache
from spectranet.audio.datasets import ClipRecord, load_clips
from spectranet.audio.decoding import load_audio
from spectranet.audio.scaling import Standardizer
from spectranet.errors import ConfigError, DataError, DataNotFoundError, NotFittedError

SR = 22050


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(seconds * SR))).astype(np.float32)


def _reference(y: np.ndarray) -> np.ndarray:
    """Direct librosa computation with the pinned settings, windows cut by hand."""
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=1024, hop_length=512, n_mels=64)
    logmel = librosa.power_to_db(mel, ref=1.0)
    delta = librosa.feature.delta(logmel, width=9, order=1, mode="interp")
    n = 1 + (logmel.shape[1] - 41) // 20
    return np.stack([np.stack([logmel[:, 20 * k : 20 * k + 41], delta[:, 20 * k : 20 * k + 41]])
                     for k in range(n)])  # fmt: skip


def _clips(tmp_path: Path, n: int = 3) -> list[ClipRecord]:
    records = []
    for i in range(n):
        path = tmp_path / f"clip{i}.flac"
        sf.write(path, _noise(1.0 + 0.5 * i, seed=i), SR, format="FLAC")
        records.append(ClipRecord(path, i % 2, 1, i, path.name))
    return records


def test_features_equal_direct_librosa_synthetic():
    y = _noise(2.0)
    x = F.clip_features(y)
    assert x.shape == (1 + (87 - 41) // 20, 2, 64, 41) and x.dtype == np.float32
    np.testing.assert_allclose(x, _reference(y), rtol=1e-5, atol=1e-4)


def test_features_equal_direct_librosa_real_clip(data_root):
    table = load_clips("urbansound8k", root=data_root, folds=[1])
    y = load_audio(table.records[5].path)
    x = F.clip_features(y)
    ref = _reference(y)
    assert x.shape == ref.shape
    np.testing.assert_allclose(x, ref, rtol=1e-5, atol=1e-4)


def test_log_mel_matches_librosa_defaults():
    y = _noise(1.0)
    direct = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=SR, n_fft=1024, hop_length=512, n_mels=64)
    )
    np.testing.assert_allclose(F.log_mel(y), direct, rtol=1e-5, atol=1e-4)
    assert F.log_mel(y).shape == (64, 1 + y.size // 512)


@pytest.mark.parametrize("T", [41, 60, 61, 173, 200])
def test_segment_counts_hop_and_views(T):
    feats = np.arange(2 * 64 * T, dtype=np.float32).reshape(2, 64, T)
    win = F.segment(feats, frames=41, overlap=0.5)
    assert win.shape == (1 + (T - 41) // 20, 2, 64, 41)
    assert np.shares_memory(win, feats)  # a view, not a copy
    for k in range(len(win)):
        np.testing.assert_array_equal(win[k], feats[..., 20 * k : 20 * k + 41])


def test_173_frames_give_7_windows():
    assert len(F.segment(np.zeros((64, 173)))) == 7  # starts 0, 20, ..., 120


def test_segment_pads_short_input():
    feats = np.arange(64 * 10, dtype=np.float32).reshape(64, 10)
    rep = F.segment(feats, pad="repeat")
    assert rep.shape == (1, 64, 41)
    np.testing.assert_array_equal(rep[0], np.tile(feats, 5)[:, :41])
    zer = F.segment(feats, pad="zeros")
    assert (zer[0, :, 10:] == 0).all() and (zer[0, :, :10] == feats).all()
    with pytest.raises(ConfigError, match="overlap must be in"):
        F.segment(feats, overlap=1.0)


def test_short_clip_padded_to_one_window():
    y = _noise(0.05)  # 1102 samples, 3 frames
    x = F.clip_features(y)
    assert x.shape == (1, 2, 64, 41)
    tiled = np.resize(y, 40 * 512)
    np.testing.assert_allclose(x[0, 0], F.log_mel(tiled), rtol=1e-5, atol=1e-4)
    z = F.clip_features(y, settings=F.FeatureSettings(pad="zeros"))
    assert z.shape == (1, 2, 64, 41) and not np.allclose(z, x)


def test_deltas_match_librosa_and_validate():
    m = np.random.default_rng(0).standard_normal((64, 50)).astype(np.float32)
    np.testing.assert_allclose(F.deltas(m), librosa.feature.delta(m, width=9, mode="interp"))
    with pytest.raises(ConfigError, match="width must be an odd integer >= 3, got 4"):
        F.deltas(m, width=4)
    with pytest.raises(DataError, match="at least width=9 frames, got 5"):
        F.deltas(m[:, :5])


def test_settings_validation_and_key():
    base = F.FeatureSettings()
    assert base.key() == F.FeatureSettings().key()
    assert base.key() != F.FeatureSettings(top_db=None).key()
    with pytest.raises(ConfigError, match="n_mels must be a positive integer, got 0"):
        F.FeatureSettings(n_mels=0)
    with pytest.raises(ConfigError, match="pad must be"):
        F.FeatureSettings(pad="edge")


def test_silent_windows():
    y = np.concatenate([np.zeros(SR, dtype=np.float32), _noise(1.0)])
    table_x = F.clip_features(y)
    silent = F.silent_windows(table_x)
    assert silent[0] and not silent[-1]
    assert not F.silent_windows(table_x, silence_db=None).any()


def test_cache_hit_skips_decoding(tmp_path, monkeypatch):
    clips = _clips(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    first = X.extract_features(clips, cache=cache, progress=False)
    assert first.cache_hits == 0 and len(first) > 0
    assert first.clip_ids.tolist() == sorted(first.clip_ids.tolist())

    def boom(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(X, "decode_audio", boom)
    monkeypatch.setattr(X, "clip_features", boom)
    second = X.extract_features(clips, cache=tmp_path / "cache", progress=False)
    assert second.cache_hits == 3
    np.testing.assert_array_equal(second.x, first.x)
    np.testing.assert_array_equal(second.clip_ids, first.clip_ids)
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    with pytest.raises(AssertionError, match="decoded although cached"):  # new settings: miss
        X.extract_features(clips, F.FeatureSettings(top_db=60.0), cache=cache, progress=False)
    with pytest.raises(AssertionError, match="decoded although cached"):  # cache off
        X.extract_features(clips, progress=False)


def test_cache_index_skips_hashing_unchanged_files(tmp_path, monkeypatch):
    clips = _clips(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    first = X.extract_features(clips, cache=cache, progress=False)
    index = cache.load_index()
    assert sorted(index) == sorted(str(c.path.absolute()) for c in clips)
    for c in clips:
        size, mtime_ns, digest = index[str(c.path.absolute())]
        assert (size, mtime_ns) == (c.path.stat().st_size, c.path.stat().st_mtime_ns)
        assert digest == hashlib.sha256(c.path.read_bytes()).hexdigest()

    def no_job(*args, **kwargs):
        raise AssertionError("file read although indexed")

    with monkeypatch.context() as m:  # warm: neither read, hashed nor decoded
        m.setattr(X, "_clip_job", no_job)
        warm = X.extract_features(clips, cache=cache, jobs=2, progress=False)
    assert warm.cache_hits == 3
    np.testing.assert_array_equal(warm.x, first.x)
    with monkeypatch.context() as m:  # entry gone between lookup and read: computed again
        m.setattr(CachedWindows, "read_into", lambda self, out: False)
        again = X.extract_features(clips, cache=cache, progress=False)
    np.testing.assert_array_equal(again.x, first.x)
    # new content (size and mtime change): hashed again, new features, index updated
    sf.write(clips[1].path, _noise(2.5, seed=7), SR, format="FLAC")
    changed = X.extract_features(clips, cache=cache, progress=False)
    assert changed.cache_hits == 2
    expected = F.clip_features(load_audio(clips[1].path))
    np.testing.assert_allclose(changed.x[changed.clip_ids == 1], expected, rtol=1e-5, atol=1e-5)
    assert cache.load_index()[str(clips[1].path.absolute())][2] == (
        hashlib.sha256(clips[1].path.read_bytes()).hexdigest())
    # a corrupt index is ignored (everything hashed again, content keys still hit)
    (tmp_path / "cache" / FeatureCache.INDEX).write_text("not json")
    assert X.extract_features(clips, cache=cache, progress=False).cache_hits == 3


def test_cache_load_fast_path_and_other_layouts(tmp_path):
    cache, s = FeatureCache(tmp_path), F.FeatureSettings()
    x = np.arange(2 * 2 * 64 * 41, dtype=np.float32).reshape(2, 2, 64, 41)
    cache.save(s, "a" * 64, x)
    got = cache.load(s, "a" * 64)
    np.testing.assert_array_equal(got, x)
    assert got.flags.writeable and got.dtype == np.float32
    np.save(cache.path(s, "b" * 64), x.astype(np.float64))  # another layout: np.load path
    assert cache.load(s, "b" * 64).dtype == np.float64
    cache.path(s, "c" * 64).write_bytes(cache.path(s, "a" * 64).read_bytes()[:301])  # cut
    cache.path(s, "e" * 64).write_bytes(b"garbage")
    assert cache.load(s, "c" * 64) is None and cache.load(s, "e" * 64) is None
    assert cache.load(s, "d" * 64) is None  # missing


def test_cache_key_changes_with_settings(tmp_path):
    cache = FeatureCache(tmp_path)
    a = cache.path(F.FeatureSettings(), "0" * 64)
    b = cache.path(F.FeatureSettings(n_mels=40), "0" * 64)
    assert a != b and a.name == b.name


def test_extract_matches_clip_features_and_parallel(tmp_path):
    clips = _clips(tmp_path)
    table = X.extract_features(clips, progress=False)
    expected = np.concatenate([F.clip_features(load_audio(c.path)) for c in clips])
    np.testing.assert_allclose(table.x, expected, rtol=1e-5, atol=1e-5)  # BLAS threads differ
    assert table.windows_of([1]).tolist() == np.flatnonzero(table.clip_ids == 1).tolist()
    par = X.extract_features(clips, jobs=2, progress=False)
    np.testing.assert_array_equal(par.x, table.x)
    with pytest.raises(ConfigError, match="jobs must be an integer >= 1"):
        X.extract_features(clips, jobs=0)


def test_extract_bad_files_raise_or_skip(tmp_path):
    clips = _clips(tmp_path, n=1)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(np.random.default_rng(1).bytes(2048))
    bad = [ClipRecord(tmp_path / n, 0, 1, i + 1, n)
           for i, n in enumerate(["empty.wav", "junk.wav", "gone.wav"])]  # fmt: skip
    with pytest.raises(DataError, match="empty.wav: expected audio, got an empty file"):
        X.extract_features(clips + bad[:1], progress=False)
    with pytest.raises(DataError, match="junk.wav: cannot decode audio"):
        X.extract_features(clips + bad[1:2], progress=False)
    with pytest.raises(DataNotFoundError, match="gone.wav"):
        X.extract_features(clips + bad[2:], progress=False)
    table = X.extract_features(clips + bad, progress=False, on_error="skip")
    assert len(table.skipped) == 3 and set(table.clip_ids.tolist()) == {0}
    assert [Path(p).name for p, _ in table.skipped] == ["empty.wav", "junk.wav", "gone.wav"]


def test_extract_real_clips(data_root, tmp_path):
    table = load_clips("urbansound8k", root=data_root, folds=[1])
    shortest = next(r for r in table.records if r.name == "87275-1-1-0.wav")  # 0.05 s
    assert sf.info(shortest.path).frames == 1103
    windows = X.extract_features([shortest, *table.records[:3]], progress=False)
    assert (windows.clip_ids == shortest.clip_id).sum() == 1  # padded to one window
    assert set(windows.clip_ids.tolist()) == {shortest.clip_id, 0, 1, 2}
    assert windows.x.shape[1:] == (2, 64, 41) and np.isfinite(windows.x).all()


def test_standardizer():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((20, 2, 8, 5)) * 3 + 7).astype(np.float32)
    train = np.arange(12)
    with pytest.raises(NotFittedError, match="not fitted"):
        Standardizer().transform(x)
    st = Standardizer(chunk=5).fit(x, indices=train)
    sub = x[train].astype(np.float64)
    np.testing.assert_allclose(st.mean_[:, :, 0], sub.mean(axis=(0, 3)), rtol=1e-10)
    np.testing.assert_allclose(st.scale_[:, :, 0], sub.std(axis=(0, 3)), rtol=1e-10)
    z = st.transform(x[train])
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=(0, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 3)), 1, atol=1e-5)
    again = Standardizer().fit(x, indices=train)
    np.testing.assert_allclose(again.mean_, st.mean_)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(st)).transform(x), st.transform(x))
    np.testing.assert_allclose(Standardizer.from_dict(st.to_dict()).transform(x),
                               st.transform(x), rtol=1e-6)  # fmt: skip
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="finite"):
        Standardizer().fit(bad)
    with pytest.raises(DataError, match=r"\(channels, n_mels\)"):
        st.transform(np.zeros((1, 2, 9, 5), dtype=np.float32))


def test_window_hop():
    assert F.window_hop(41, 0.5) == 20 and F.window_hop(41, 0.0) == 41
    assert F.window_hop(4, 0.9) == 1
    with pytest.raises(ConfigError, match="frames must be a positive integer, got 0"):
        F.window_hop(0, 0.5)


def test_middle_windows_one_per_clip():
    from spectranet.audio.extraction import WindowTable
    from spectranet.audio.features import FeatureSettings

    clip_ids = np.array([4, 4, 4, 7, 9, 9, 9, 9, 2, 2])  # clip 2's windows come last
    table = WindowTable(np.zeros((10, 2, 64, 41), np.float32), clip_ids,
                        np.zeros(10, bool), FeatureSettings())
    assert table.middle_windows([4, 7, 9, 2]).tolist() == [1, 3, 6, 9]  # of 3, 1, 4, 2 windows
    assert table.middle_windows([9, 5]).tolist() == [6]  # clip 5 has no window
