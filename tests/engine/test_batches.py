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


def test_groups_draw_one_row_per_group_per_epoch():
    groups = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    loader = make(batch_size=3, groups=groups, indices=np.arange(1, 10))  # row 0 left out
    assert len(loader) == 2  # 4 groups in batches of 3
    draws = []
    for epoch in range(200):
        loader.set_epoch(epoch)
        rows = loader.epoch_rows()
        assert sorted(groups[rows].tolist()) == [0, 1, 2, 3] and 0 not in rows
        draws.append(rows)
    loader.set_epoch(5)
    assert np.array_equal(loader.epoch_rows(), draws[5])  # seeded by (seed, epoch)
    counts = np.bincount(np.concatenate(draws), minlength=10)
    assert counts[5] == 200  # group 2 has one row
    assert counts[0] == 0 and 70 <= counts[1] <= 130 and 70 <= counts[2] <= 130  # group 0: 2 rows
    assert all(25 <= c <= 75 for c in counts[6:])  # group 3: 4 rows, 50 each expected
    ids = sorted(i for b in loader for i in b["id"].tolist())
    assert [i - 100 for i in ids] == sorted(draws[5].tolist())


def test_groups_must_match_rows():
    with pytest.raises(DataError, match="groups has 3 entries for 10 rows"):
        make(groups=np.array([0, 1, 2]))
