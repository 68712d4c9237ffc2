"""The stem started as the whitened PCA of the training spectra (--stem-init pca)."""

import json

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from spectranet.config import make_config
from spectranet.errors import ConfigError, DataError
from spectranet.hsi import pipeline
from spectranet.hsi.models import Fast3DCNN, StemFast3DCNN
from spectranet.hsi.reduce import SpectralReducer
from spectranet.hsi.stem_init import init_stem_pca


def _stem_scores(model: StemFast3DCNN, spectra: np.ndarray) -> np.ndarray:
    """The stem's output for each spectrum, as (n, C), through the model's own stem path."""
    x = torch.as_tensor(spectra, dtype=torch.float32)[:, None, :, None, None]
    with torch.no_grad():
        return model.stem(x).reshape(len(spectra), -1).double().numpy()


def test_stem_outputs_the_whitened_pca_scores():
    g = np.random.default_rng(0)
    spectra = g.normal(size=(300, 24)) @ g.normal(size=(24, 24)) + 5.0
    model = StemFast3DCNN(24, 9, 3, stem_channels=16)
    init_stem_pca(model, spectra)
    scores = _stem_scores(model, spectra)
    pca = PCA(16, svd_solver="full").fit(spectra)
    np.testing.assert_allclose(scores, pca.transform(spectra) / np.sqrt(pca.explained_variance_),
                               atol=1e-4)
    # by hand: zero mean and unit covariance over the spectra it was fitted on (ddof 1)
    np.testing.assert_allclose(scores.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(scores, rowvar=False), np.eye(16), atol=1e-4)
    assert model(torch.zeros(2, 1, 24, 9, 9)).shape == (2, 3)


def test_two_directions_by_hand():
    # band 0 is +-3 and band 1 +-1 in orthogonal patterns (zero mean), the other bands a tiny
    # noise: the stem's first two channels read x0 / (3 s) and x1 / s (up to sign), with
    # s = sqrt(400 / 399) because explained_variance_ divides by n - 1
    g = np.random.default_rng(1)
    spectra = np.zeros((400, 16))
    spectra[:, 0] = 3.0 * np.tile([1.0, -1.0], 200)
    spectra[:, 1] = np.tile([1.0, 1.0, -1.0, -1.0], 100)
    spectra[:, 2:] = 1e-4 * g.normal(size=(400, 14))
    model = StemFast3DCNN(16, 9, 2, stem_channels=15)
    init_stem_pca(model, spectra)
    w = model.stem.weight.detach().reshape(15, 16).numpy()
    s = np.sqrt(400 / 399)
    np.testing.assert_allclose(np.abs(w[0, :2]), [1 / (3 * s), 0.0], atol=1e-3)
    np.testing.assert_allclose(np.abs(w[1, :2]), [0.0, 1 / s], atol=1e-3)


@pytest.mark.parametrize(("model", "spectra", "error", "match"), [
    (Fast3DCNN(20, 9, 4), np.zeros((50, 20)), ConfigError, "fast3dcnn_stem"),
    (StemFast3DCNN(200, 9, 4, stem_kernel=7, stem_stride=5, stem_channels=8),
     np.zeros((50, 200)), ConfigError, "full-projection"),
    (StemFast3DCNN(16, 9, 4, stem_channels=20), np.zeros((50, 16)), ConfigError,
     "20 channels for 16 bands"),
    (StemFast3DCNN(24, 9, 4), np.ones((20, 24)), DataError, r"n_pixels > 20"),
    (StemFast3DCNN(24, 9, 4), np.ones((50, 23)), DataError, r"got \(50, 23\)"),
    (StemFast3DCNN(24, 9, 4), np.full((50, 24), np.nan), DataError, "NaN"),
    (StemFast3DCNN(24, 9, 4), np.ones((50, 24)), DataError, "fewer than 20 directions"),
])
def test_refuses_what_it_cannot_whiten(model, spectra, error, match):
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error, match=match):
        init_stem_pca(model, spectra)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_config_needs_the_stem_model():
    with pytest.raises(ConfigError, match="stem_init 'pca' needs model 'fast3dcnn_stem'"):
        make_config("hsi", "quick", scene="indian_pines", stem_init="pca")
    with pytest.raises(ConfigError, match="stem_init"):
        make_config("hsi", "quick", scene="indian_pines", stem_init="zeros")


def test_pipeline_starts_the_stem_from_its_training_pixels(tmp_path):
    """With a learning rate too small to move anything, the trained stem is still the PCA of
    the split's training pixels after the run's reducer (and not of all pixels)."""
    g = np.random.default_rng(0)
    gt = np.zeros((30, 30), np.int64)
    gt[2:14, 2:28], gt[16:28, 2:28] = 1, 2
    cube = g.uniform(1.0, 2.0, size=(30, 30, 24)).astype(np.float32)
    cube[gt == 1, :8] += 1.0
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)
    config = make_config("hsi", "quick", cube=str(tmp_path / "cube.npy"),
                         gt=str(tmp_path / "gt.npy"), window=9, components=24, pca=False,
                         model="fast3dcnn_stem", stem_init="pca", lr=1e-12, epochs=1,
                         protocol="disjoint", seeds=[0])
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    state = torch.load(out / "seed_0/checkpoint.pt", weights_only=True)
    train = np.asarray(json.loads((out / "seed_0/split.json").read_text())["train"])
    reduced = SpectralReducer.from_state(state["metadata"]["reducer"]).transform(cube)
    spectra = reduced.reshape(-1, 24)[train]
    model = StemFast3DCNN(24, 9, 2)
    model.load_state_dict(state["model"])
    scores = _stem_scores(model, spectra)
    np.testing.assert_allclose(np.cov(scores, rowvar=False), np.eye(20), atol=1e-3)
    everything = _stem_scores(model, reduced.reshape(-1, 24))
    assert np.abs(np.cov(everything, rowvar=False) - np.eye(20)).max() > 0.05
    assert "stem started as the training PCA" in (out / "report.md").read_text()
