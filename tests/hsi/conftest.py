"""Shared fixtures of the hyperspectral tests."""

import numpy as np
import pytest


@pytest.fixture
def user_scene(tmp_path):
    """A user's scene as files: a 24 x 24 x 16 cube (values 1-2, so every spectrum has a
    positive norm) with two classes, ids 3 and 7; the first 8 bands are brighter for class 3.

    Returns ``{"cube": path, "gt": path}``, ready for ``make_config(..., **files)``.
    """
    g = np.random.default_rng(0)
    gt = np.zeros((24, 24), np.int64)
    gt[2:12, 2:22] = 3
    gt[13:22, 2:22] = 7
    cube = g.uniform(1.0, 2.0, size=(24, 24, 16)).astype(np.float32)
    cube[gt == 3, :8] += 1.0
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)
    return {"cube": str(tmp_path / "cube.npy"), "gt": str(tmp_path / "gt.npy")}
