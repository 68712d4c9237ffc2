import numpy as np
import pytest
import torch

from spectranet.errors import ConfigError
from spectranet.hsi.augment import (
    Compose,
    Dihedral,
    SpectralNoise,
    SpectralShift,
    make_augment,
)


def _batch(n=64, bands=3, s=3):
    x = torch.arange(n * bands * s * s, dtype=torch.float32).reshape(n, 1, bands, s, s)
    return {"x": x, "y": torch.arange(n), "id": torch.arange(n) + 100}


def test_dihedral_known_patch():
    """A 3 x 3 patch 0..8 comes out as one of its eight hand-written symmetries."""
    patch = torch.arange(9.0).reshape(1, 1, 1, 3, 3)
    by_hand = [
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]],   # identity
        [[2, 5, 8], [1, 4, 7], [0, 3, 6]],   # 90 degrees anticlockwise
        [[8, 7, 6], [5, 4, 3], [2, 1, 0]],   # 180
        [[6, 3, 0], [7, 4, 1], [8, 5, 2]],   # 270
        [[2, 1, 0], [5, 4, 3], [8, 7, 6]],   # mirrored left-right
        [[8, 5, 2], [7, 4, 1], [6, 3, 0]],   # 90, mirrored
        [[6, 7, 8], [3, 4, 5], [0, 1, 2]],   # 180, mirrored (= up-down)
        [[0, 3, 6], [1, 4, 7], [2, 5, 8]],   # 270, mirrored (= transpose)
    ]
    seen = set()
    gen = torch.Generator().manual_seed(0)
    t = Dihedral(generator=gen)
    for _ in range(200):
        out = t({"x": patch, "y": torch.zeros(1), "id": torch.zeros(1)})["x"][0, 0, 0]
        match = [i for i, ref in enumerate(by_hand)
                 if torch.equal(out, torch.tensor(ref, dtype=out.dtype))]
        assert len(match) == 1
        seen.add(match[0])
        assert out[1, 1] == 4  # the centre pixel, whose label the patch carries, stays
    assert seen == set(range(8))


def test_dihedral_per_patch_matches_numpy_and_keeps_y_id():
    batch = _batch()
    gen = torch.Generator().manual_seed(3)
    out = Dihedral(generator=gen)(batch)
    gen = torch.Generator().manual_seed(3)
    turns = torch.randint(0, 4, (64,), generator=gen).numpy()
    mirror = torch.randint(0, 2, (64,), generator=gen).numpy()
    for i in range(64):  # numpy reference: rot90 over the spatial axes, then a left-right flip
        ref = np.rot90(batch["x"][i].numpy(), turns[i], axes=(-2, -1))
        ref = ref[..., ::-1] if mirror[i] else ref
        np.testing.assert_array_equal(out["x"][i].numpy(), ref)
    assert torch.equal(out["y"], batch["y"]) and torch.equal(out["id"], batch["id"])
    assert len({tuple(t) for t in zip(turns, mirror, strict=True)}) == 8
    # each patch is a permutation of its own values (spectra move, never mix)
    assert torch.equal(out["x"].flatten(2).sort(-1).values, batch["x"].flatten(2).sort(-1).values)


def test_spectral_noise_std_and_seed():
    x = torch.zeros(2000, 1, 5, 3, 3)
    out = SpectralNoise(0.1, generator=torch.Generator().manual_seed(0))({"x": x})["x"]
    assert out.shape == x.shape
    assert abs(float(out.std()) - 0.1) < 0.002 and abs(float(out.mean())) < 0.002
    again = SpectralNoise(0.1, generator=torch.Generator().manual_seed(0))({"x": x})["x"]
    assert torch.equal(out, again)


def test_make_augment():
    assert make_augment() is None
    t = make_augment(flips=True, spectral_noise=0.05)
    assert isinstance(t, Compose)
    assert [type(p) for p in t.transforms] == [Dihedral, SpectralNoise]
    torch.manual_seed(0)  # default: torch's global generator (seeded and checkpointed by fit)
    a = t(_batch())["x"]
    torch.manual_seed(0)
    assert torch.equal(a, t(_batch())["x"])


@pytest.mark.parametrize("bad", [-0.1, True, "0.1"])
def test_spectral_noise_errors(bad):
    with pytest.raises(ConfigError, match="std must be a number >= 0"):
        SpectralNoise(bad)


def test_wrong_shape():
    with pytest.raises(ConfigError, match="must have shape"):
        Dihedral()({"x": torch.zeros(2, 3, 4)})


def test_spectral_shift_moves_whole_spectra_with_edges_repeated():
    batch = _batch(n=200, bands=6, s=3)
    out = SpectralShift(2, generator=torch.Generator().manual_seed(0))(batch)
    x, y = batch["x"].numpy(), out["x"].numpy()
    assert torch.equal(out["y"], batch["y"]) and torch.equal(out["id"], batch["id"])
    seen = set()
    for i in range(200):
        # by hand: band b of the result is band clip(b - k) of the input, the same k per pixel
        matches = [k for k in range(-2, 3)
                   if np.array_equal(y[i], x[i][:, np.clip(np.arange(6) - k, 0, 5)])]
        assert len(matches) == 1, i
        seen.add(matches[0])
    assert seen == {-2, -1, 0, 1, 2}
    again = SpectralShift(2, generator=torch.Generator().manual_seed(0))(batch)["x"]
    assert torch.equal(out["x"], again)
    assert torch.equal(SpectralShift(0)(batch)["x"], batch["x"])


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_spectral_shift_errors(bad):
    with pytest.raises(ConfigError, match="max_shift must be an integer >= 0"):
        SpectralShift(bad)


def test_make_augment_shifts_before_the_noise():
    t = make_augment(flips=True, spectral_noise=0.05, spectral_shift=1)
    assert [type(p) for p in t.transforms] == [Dihedral, SpectralShift, SpectralNoise]
