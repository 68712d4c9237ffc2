"""The regions figure: every pixel coded by its set, the disjoint buffer included."""

import numpy as np
import pytest

from spectranet.errors import DataError
from spectranet.hsi.disjoint import disjoint_split
from spectranet.hsi.plots import REGIONS, plot_regions, region_map
from spectranet.hsi.splits import Split


def test_region_map_codes_each_set():
    labels = np.array([[0, 0, 1, -1], [1, 1, 0, 0]])
    split = Split(train=[0, 4], val=[2], test=[5, 7])
    assert region_map(split, labels).tolist() == [[1, 4, 2, 0], [1, 3, 4, 3]]


def test_region_map_of_a_disjoint_split_shows_its_buffer():
    labels = np.full((40, 50), -1, dtype=np.int64)
    labels[2:38, 2:24], labels[2:38, 26:48] = 0, 1
    split = disjoint_split(labels, window=5, seed=0)
    codes = region_map(split, labels).ravel()
    for code, indices in ((1, split.train), (2, split.val), (3, split.test), (4, split.discarded)):
        assert indices.size > 0 and (codes[indices] == code).all()
    assert (codes == 0).sum() == (labels == -1).sum()
    assert np.bincount(codes, minlength=5)[1:].sum() == (labels >= 0).sum()


def test_region_map_refuses_unlabelled_or_outside_pixels():
    labels = np.array([[0, -1, 0]])
    with pytest.raises(DataError, match="split's test set holds unlabelled pixels"):
        region_map(Split([0], [], [1]), labels)
    with pytest.raises(DataError, match=r"split holds pixel 3, outside a scene of shape \(1, 3\)"):
        region_map(Split([3], [], [2]), labels)


def test_plot_regions_legend_counts_each_region():
    labels = np.array([[0, 0, 1, -1], [1, 1, 0, 0]])
    fig = plot_regions(Split(train=[0, 4], val=[2], test=[5, 7]), labels, title="toy")
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["training (2)", "validation (1)", "test (2)", "buffer or unused labelled (2)"]
    assert ax.get_title() == "toy" and len(REGIONS) == 5
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 4, 2, 0], [1, 3, 4, 3]])
