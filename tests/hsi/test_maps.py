import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.maps import plot_map, plot_rgb, predict_map
from spectranet.hsi.patches import pad_cube

H, W, B, K, WINDOW = 11, 9, 3, 4, 5


@pytest.fixture
def cube(rng):
    return rng.normal(size=(H, W, B)).astype(np.float32)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(B * WINDOW * WINDOW, K))


def _reference(model, cube):
    """Per-pixel forward pass on a numpy slice of the padded cube (independent of gather)."""
    padded = pad_cube(cube, WINDOW)
    out = np.empty((H, W, K), np.float32)
    with torch.no_grad():
        for r in range(H):
            for c in range(W):
                x = torch.from_numpy(padded[r:r + WINDOW, c:c + WINDOW].transpose(2, 0, 1).copy())
                out[r, c] = torch.softmax(model(x[None, None]), 1)[0].numpy()
    return out


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_map_covers_every_pixel(model, cube, batch_size):
    class_map, proba = predict_map(model, cube, window=WINDOW, batch_size=batch_size,
                                   progress=False, return_proba=True)
    assert class_map.shape == (H, W) and class_map.dtype == np.int64
    assert proba.shape == (H, W, K) and proba.dtype == np.float32
    assert ((class_map >= 0) & (class_map < K)).all()  # no missing value, borders included
    expected = _reference(model, cube)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(class_map, expected.argmax(-1))


def test_map_bf16_and_mode_restored(model, cube):
    model.train()
    fp32 = predict_map(model, cube, window=WINDOW, progress=False)
    bf16 = predict_map(model, cube, window=WINDOW, precision="bf16", progress=False)
    assert bf16.shape == (H, W) and (bf16 == fp32).mean() > 0.8
    assert model.training  # the caller's mode is restored


def test_map_errors(model, cube):
    with pytest.raises(ConfigError, match="window must be an odd integer >= 3, got 4"):
        predict_map(model, cube, window=4, progress=False)
    with pytest.raises(ConfigError, match="precision must be one of"):
        predict_map(model, cube, window=WINDOW, precision="fp16", progress=False)
    with pytest.raises(ConfigError, match="batch_size must be an integer >= 1, got 0"):
        predict_map(model, cube, window=WINDOW, batch_size=0, progress=False)
    with pytest.raises(ConfigError, match="model must be a torch.nn.Module"):
        predict_map(lambda x: x, cube, window=WINDOW, progress=False)
    with pytest.raises(DataError, match="3-D"):
        predict_map(model, cube[0], window=WINDOW, progress=False)


def test_plot_map(rng):
    gt = rng.integers(-1, K, size=(H, W))
    pred = rng.integers(0, K, size=(H, W))
    palette = ["red", (0, 255, 0), (0.0, 0.0, 1.0), (1, 2, 3)]
    fig = plot_map(pred, palette, [f"class {k}" for k in range(K)], ground_truth=gt, title="map")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    img = fig.axes[1].images[0]
    rgba = img.cmap(img.norm(img.get_array()))
    np.testing.assert_allclose(rgba[gt == -1][:, :3], 0.0)  # unlabelled drawn black
    np.testing.assert_allclose(rgba[gt == 1][:, :3], [[0.0, 1.0, 0.0]] * (gt == 1).sum())
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [f"class {k}" for k in range(K)]
    assert len(plot_map(pred, palette, list("abcd")).axes) == 1


def test_plot_map_errors(rng):
    pred = rng.integers(0, K, size=(H, W))
    with pytest.raises(ConfigError, match="palette must hold >= 4 colours, got 2"):
        plot_map(pred, ["red", "blue"], list("abcd"))
    with pytest.raises(DataError, match=r"values must be in \[-1, 3\)"):
        plot_map(pred, ["red"] * 3, list("abc"))
    with pytest.raises(DataError, match="ground_truth must have shape"):
        plot_map(pred, ["red"] * 4, list("abcd"), ground_truth=pred[:2])


def test_plot_rgb(cube):
    fig = plot_rgb(cube, (2, 1, 0), title="rgb")
    rgb = fig.axes[0].images[0].get_array()
    assert rgb.shape == (H, W, 3) and rgb.min() >= 0 and rgb.max() <= 1
    with pytest.raises(ConfigError, match="rgb_bands must be 3 band indices"):
        plot_rgb(cube, (0, 1, 3))
