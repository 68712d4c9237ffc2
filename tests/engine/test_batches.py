import numpy as np
import pytest

from spectranet.engine.batches import ArrayBatches
from spectranet.errors import ConfigError, DataError


def make(**kwargs):
    x = np.arange(40, dtype=np.float32).reshape(10, 2, 2)
    return ArrayBatches(x, np.arange(10) % 3, np.arange(10) + 100, **kwargs)


def test_every_row_once_per_epoch_and_epoch_seeded_shuffle():
    loader = make(batch_size=4, shuffle=True, seed=1)
    assert len(loader) == 3
    first = [b["id"].tolist() for b in loader]
    assert sorted(sum(first, [])) == list(range(100, 110))
    assert [b["id"].tolist() for b in loader] == first  # same epoch, same batches
    loader.set_epoch(1)
    assert [b["id"].tolist() for b in loader] != first


def test_indices_transform_and_shapes():
    seen = []

    def double(xb, rng):
        seen.append(rng.integers(1000))
        return xb * 2

    loader = make(indices=np.array([7, 2]), batch_size=8, transform=double)
    (batch,) = list(loader)
    assert batch["id"].tolist() == [102, 107] and batch["y"].tolist() == [2, 1]
    assert batch["x"].shape == (2, 2, 2) and float(batch["x"][0, 0, 0]) == 16.0
    list(loader)
    assert seen[0] == seen[1]  # augmentation draws depend on (seed, epoch, batch) only


def test_errors():
    with pytest.raises(ConfigError, match="batch_size"):
        make(batch_size=0)
    with pytest.raises(DataError, match="differ in length"):
        ArrayBatches(np.zeros((3, 2)), np.zeros(2), np.zeros(3))
