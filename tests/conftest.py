import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data folder; skip without it, but fail in CI where it must be present."""
    root = os.environ.get("SPECTRANET_DATA")
    if not root:
        if os.environ.get("CI"):
            pytest.fail("SPECTRANET_DATA is unset in CI")
        pytest.skip("SPECTRANET_DATA is unset: real-data test skipped")
    path = Path(root).resolve()
    if not path.is_dir():
        pytest.fail(f"SPECTRANET_DATA={root} is not a folder")
    return path


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
