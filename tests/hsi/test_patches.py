import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.patches import PAD_MODES, PatchBatches, PatchDataset, check_window, pad_cube

H, W, B = 9, 7, 4


@pytest.fixture
def cube(rng):
    return rng.normal(size=(H, W, B)).astype(np.float32)


@pytest.fixture
def labels(rng):
    return rng.integers(-1, 3, size=(H, W)).astype(np.int64)


def _expected(cube, window, mode, pixel):
    """Independent reference: numpy pad of the (H, W, B) cube, then a slice."""
    m = window // 2
    padded = np.pad(cube, ((m, m), (m, m), (0, 0)), mode=mode)
    r, c = divmod(int(pixel), cube.shape[1])
    return padded[r:r + window, c:c + window].transpose(2, 0, 1)[None]


@pytest.mark.parametrize("mode", PAD_MODES)
@pytest.mark.parametrize("window", [3, 5, 7])
def test_every_patch_equals_numpy_slice(cube, mode, window):
    ds = PatchDataset(cube, window=window, mode=mode)  # every pixel, border included
    assert len(ds) == H * W
    batch = ds.gather(np.arange(H * W))
    assert batch.shape == (H * W, 1, B, window, window) and batch.dtype == torch.float32
    for p in range(H * W):
        np.testing.assert_array_equal(batch[p].numpy(), _expected(cube, window, mode, p))


@pytest.mark.parametrize("mode", PAD_MODES)
def test_pad_cube(cube, mode):
    padded = pad_cube(cube, 5, mode)
    assert padded.shape == (H + 4, W + 4, B) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[2:-2, 2:-2], cube)
    if mode == "constant":
        assert (padded[:2] == 0).all()


def test_sample_keys_and_labels(cube, labels):
    ds = PatchDataset(cube, labels, window=5)
    labelled = np.flatnonzero(labels.ravel() >= 0)
    assert len(ds) == labelled.size
    for i in [0, 3, len(ds) - 1]:
        s = ds[i]
        assert set(s) == {"x", "y", "id"}
        assert s["x"].shape == (1, B, 5, 5) and s["x"].dtype == torch.float32
        assert s["y"].dtype == torch.int64 and s["id"].dtype == torch.int64
        assert int(s["id"]) == labelled[i] and int(s["y"]) == labels.flat[labelled[i]]
        np.testing.assert_array_equal(s["x"].numpy(), _expected(cube, 5, "reflect", labelled[i]))


def test_gather_equals_getitem(cube, labels, rng):
    ds = PatchDataset(cube, labels, rng.permutation(H * W)[:20], window=3)
    pos = rng.permutation(len(ds))[:9]
    batch = ds.batch(pos)
    for j, p in enumerate(pos):
        s = ds[int(p)]
        torch.testing.assert_close(batch["x"][j], s["x"], rtol=0, atol=0)
        assert batch["y"][j] == s["y"] and batch["id"][j] == s["id"]
    assert batch["x"].is_contiguous()


def test_subset_shares_padded_cube(cube, labels):
    ds = PatchDataset(cube, labels, window=3)
    sub = ds.subset([0, W * H - 1])
    assert sub.padded is ds.padded and len(sub) == 2 and len(ds) > 2
    np.testing.assert_array_equal(sub[1]["x"].numpy(), _expected(cube, 3, "reflect", H * W - 1))
    assert int(sub[1]["y"]) == labels.flat[-1]


def test_unlabelled_dataset_gives_minus_one(cube):
    ds = PatchDataset(cube, window=3)
    assert (ds.targets == -1).all() and int(ds[5]["id"]) == 5


def test_dataloader_uses_one_gather(cube, labels, monkeypatch):
    ds = PatchDataset(cube, labels, window=3)
    calls = []
    original = PatchDataset.gather
    monkeypatch.setattr(PatchDataset, "gather",
                        lambda self, p: calls.append(len(p)) or original(self, p))
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = []
    for batch in loader:
        assert batch["x"].shape[1:] == (1, B, 3, 3)
        seen.append(batch["id"])
    assert sorted(torch.cat(seen).tolist()) == ds.pixels.tolist()
    assert calls == [len(b) for b in seen]  # one gather per batch, no per-sample call


def test_patch_batches(cube, labels):
    ds = PatchDataset(cube, labels, window=3)
    loader = PatchBatches(ds, 8, shuffle=True, seed=0)
    assert len(loader) == -(-len(ds) // 8)
    epoch1 = [b["id"] for b in loader]
    assert torch.equal(torch.cat([b["id"] for b in loader]), torch.cat(epoch1))  # same epoch
    loader.set_epoch(1)
    epoch2 = [b["id"] for b in loader]
    assert sorted(torch.cat(epoch1).tolist()) == ds.pixels.tolist()
    assert not torch.equal(torch.cat(epoch1), torch.cat(epoch2))  # reshuffled each epoch
    again = PatchBatches(ds, 8, shuffle=True, seed=0)
    assert torch.equal(torch.cat([b["id"] for b in again]), torch.cat(epoch1))  # same seed
    again.set_epoch(1)
    assert torch.equal(torch.cat([b["id"] for b in again]), torch.cat(epoch2))
    ordered = list(PatchBatches(ds, 5, drop_last=True))
    assert len(ordered) == len(ds) // 5 and all(b["x"].shape[0] == 5 for b in ordered)
    assert torch.equal(ordered[0]["id"], torch.from_numpy(ds.pixels[:5]))


@pytest.mark.parametrize("window", [10, 2, 1, 0, -3, 4.0, "5", True])
def test_window_errors(cube, window):
    with pytest.raises(ConfigError, match=f"window must be an odd integer >= 3, got {window!r}"):
        PatchDataset(cube, window=window)


def test_window_larger_than_scene(cube):
    with pytest.raises(ConfigError, match=r"not exceed the scene's smaller side \(7\), got 9"):
        pad_cube(cube, 9)
    assert check_window(7, (H, W)) == 7


def test_other_errors(cube, labels):
    with pytest.raises(ConfigError, match="mode must be one of"):
        pad_cube(cube, 3, mode="wrap")
    with pytest.raises(DataError, match=r"3-D \(H, W, bands\)"):
        PatchDataset(cube[0], window=3)
    bad = cube.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="finite"):
        PatchDataset(bad, window=3)
    with pytest.raises(DataError, match=r"labels must be an integer array of shape \(9, 7\)"):
        PatchDataset(cube, labels[:2], window=3)
    with pytest.raises(DataError, match=r"pixels must be flat indices in \[0, 63\), got 63"):
        PatchDataset(cube, labels, [0, 63], window=3)
    ds = PatchDataset(cube, window=3)
    with pytest.raises(IndexError):
        ds[H * W]
    with pytest.raises(ConfigError, match="seed must be an integer >= 0 when shuffle=True"):
        PatchBatches(ds, 4, shuffle=True)
    with pytest.raises(ConfigError, match="batch_size must be an integer >= 1, got 0"):
        PatchBatches(ds, 0)
