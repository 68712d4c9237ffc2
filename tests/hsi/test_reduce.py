import pickle

import numpy as np
import pytest
from sklearn.decomposition import IncrementalPCA
from sklearn.preprocessing import StandardScaler

from spectranet.errors import ConfigError, DataError, NotFittedError
from spectranet.hsi.reduce import SpectralReducer


@pytest.fixture
def cube(rng):
    # correlated bands with a large offset, like radiances
    base = rng.normal(size=(24, 18, 12)) @ rng.normal(size=(12, 12))
    return (1000.0 + 50.0 * base).astype(np.float32)


def _reference(cube, mask, n, batch_size, whiten=False):
    x = cube[mask].astype(np.float64)
    pca = IncrementalPCA(n, batch_size=batch_size, whiten=whiten).fit(x)
    scaler = StandardScaler().fit(pca.transform(x))
    flat = cube.reshape(-1, cube.shape[2]).astype(np.float64)
    return pca, scaler.transform(pca.transform(flat)).reshape(*cube.shape[:2], n)


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
def test_matches_sklearn(cube, rng, whiten, use_mask):
    mask = rng.random(cube.shape[:2]) < 0.4 if use_mask else np.ones(cube.shape[:2], bool)
    reducer = SpectralReducer(5, batch_size=30, whiten=whiten)
    out = reducer.fit(cube, mask if use_mask else None).transform(cube)
    pca, expected = _reference(cube, mask, 5, 30, whiten)
    assert out.shape == (24, 18, 5) and out.dtype == np.float32
    np.testing.assert_allclose(reducer.pca_.components_, pca.components_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert reducer.n_pixels_fit_ == mask.sum()


def test_default_batch_and_standardised_output(cube):
    out = SpectralReducer(4).fit_transform(cube)
    _, expected = _reference(cube, np.ones(cube.shape[:2], bool), 4, 5 * 12)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    flat = out.reshape(-1, 4)
    np.testing.assert_allclose(flat.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(flat.std(0), 1.0, atol=1e-4)


def test_no_scale_returns_raw_components(cube):
    out = SpectralReducer(3, scale=False).fit_transform(cube)
    assert np.abs(out).max() > 10  # unscaled PCA output of radiances
    assert SpectralReducer(3, scale=False).fit(cube).scaler_ is None


def test_fit_twice_same_result(cube, rng):
    mask = rng.random(cube.shape[:2]) < 0.5
    reducer = SpectralReducer(5)
    first = reducer.fit(cube, mask).transform(cube)
    second = reducer.fit(cube, mask).transform(cube)
    np.testing.assert_array_equal(first, second)


def test_mask_changes_fit(cube):
    mask = np.zeros(cube.shape[:2], bool)
    mask[:8] = True
    a = SpectralReducer(3).fit_transform(cube, mask)
    b = SpectralReducer(3).fit_transform(cube)
    assert not np.allclose(a, b)
    np.testing.assert_allclose(a[:8].reshape(-1, 3).mean(0), 0.0, atol=1e-5)


def test_pickle_round_trip(cube):
    reducer = SpectralReducer(5).fit(cube)
    clone = pickle.loads(pickle.dumps(reducer))
    np.testing.assert_array_equal(clone.transform(cube), reducer.transform(cube))


def test_init_only_stores():
    reducer = SpectralReducer(500, batch_size=-3)  # validated at fit, like sklearn
    assert reducer.n_components == 500 and reducer.batch_size == -3
    assert "n_components=500" in repr(reducer)


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        SpectralReducer().transform(np.zeros((2, 2, 3), np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_rejected(cube, bad):
    cube[3, 4, 5] = bad
    with pytest.raises(DataError, match="finite"):
        SpectralReducer(3).fit(cube)
    clean = np.nan_to_num(cube, nan=0.0, posinf=0.0)
    reducer = SpectralReducer(3).fit(clean)
    with pytest.raises(DataError, match="finite"):
        reducer.transform(cube)


def test_errors(cube):
    with pytest.raises(ConfigError, match=r"must be <= the number of bands \(12\), got 13"):
        SpectralReducer(13).fit(cube)
    with pytest.raises(ConfigError, match="n_components must be an integer >= 1, got 0"):
        SpectralReducer(0).fit(cube)
    with pytest.raises(ConfigError, match="batch_size must be None or an integer >= n_components"):
        SpectralReducer(5, batch_size=3).fit(cube)
    with pytest.raises(DataError, match=r"3-D \(H, W, bands\)"):
        SpectralReducer(3).fit(cube[0])
    with pytest.raises(DataError, match="mask must be a bool array of shape"):
        SpectralReducer(3).fit(cube, np.ones((2, 2), bool))
    few = np.zeros(cube.shape[:2], bool)
    few[0, :2] = True
    with pytest.raises(DataError, match=r"mask must select >= n_components \(3\) pixels, got 2"):
        SpectralReducer(3).fit(cube, few)
    reducer = SpectralReducer(3).fit(cube)
    with pytest.raises(DataError, match="cube must have 12 bands as at fit, got 11"):
        reducer.transform(cube[:, :, :11])


def test_integer_cube(cube):
    ints = cube.astype(np.uint16)
    np.testing.assert_allclose(SpectralReducer(3).fit_transform(ints),
                               SpectralReducer(3).fit_transform(ints.astype(np.float32)),
                               atol=1e-5)


def test_no_pca_standardises_each_band_and_round_trips():
    # pca=False: no projection, per-band standardisation on the masked pixels
    rng = np.random.default_rng(0)
    cube = rng.normal(size=(6, 5, 4)) * np.array([1.0, 10.0, 100.0, 0.1]) + 50.0
    mask = np.zeros((6, 5), bool)
    mask[:4] = True
    reducer = SpectralReducer(4, pca=False).fit(cube, mask=mask)
    out = reducer.transform(cube)
    fitted = cube[mask]
    expected = (fitted - fitted.mean(0)) / fitted.std(0)
    np.testing.assert_allclose(out[mask], expected, rtol=1e-5, atol=1e-5)
    assert reducer.pca_ is None
    np.testing.assert_allclose(reducer.explained_variance_, fitted.var(0), rtol=1e-10)
    np.testing.assert_allclose(reducer.explained_variance_ratio_,
                               fitted.var(0) / fitted.var(0).sum(), rtol=1e-10)
    state = reducer.to_state()
    again = SpectralReducer.from_state(state).transform(cube)
    np.testing.assert_array_equal(again, out)
    # states written when no-PCA reducers held an identity projection load the same
    legacy = state | {"mean": [0.0] * 4, "components": np.eye(4).tolist()}
    np.testing.assert_array_equal(SpectralReducer.from_state(legacy).transform(cube), out)


def test_no_pca_needs_every_band():
    with pytest.raises(ConfigError, match=r"equal the cube's number of bands \(5\), got 3"):
        SpectralReducer(3, pca=False).fit(np.ones((4, 4, 5)))


def test_unit_normalise_by_hand():
    from spectranet.hsi.reduce import unit_normalise

    got = unit_normalise(np.array([[3.0, 4.0], [0.0, 2.0], [0.0, 0.0]]))
    np.testing.assert_allclose(got, [[0.6, 0.8], [0.0, 1.0], [0.0, 0.0]])  # zero row kept


def test_unit_norm_before_scaling_by_hand():
    # pixels (3, 4), (0, 2), (5, 0) become (0.6, 0.8), (0, 1), (1, 0) before the scaling
    cube = np.array([[[3.0, 4.0], [0.0, 2.0], [5.0, 0.0]]])
    unit = np.array([[0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    raw = SpectralReducer(2, pca=False, scale=False, unit_norm=True).fit(cube)
    np.testing.assert_allclose(raw.transform(cube)[0], unit, rtol=1e-6)
    scaled = SpectralReducer(2, pca=False, unit_norm=True).fit(cube).transform(cube)[0]
    np.testing.assert_allclose(scaled, (unit - unit.mean(0)) / unit.std(0), rtol=1e-5)
    # with PCA, as sklearn's PCA of the unit-length spectra
    pca, expected = _reference(unit.reshape(1, 3, 2), np.ones((1, 3), bool), 1, 2)
    got = SpectralReducer(1, batch_size=2, unit_norm=True).fit(cube).transform(cube)
    np.testing.assert_allclose(np.abs(got), np.abs(expected), rtol=1e-5)  # sign of the axis free


def test_unit_norm_ignores_brightness_and_round_trips(cube, rng):
    mask = rng.random(cube.shape[:2]) < 0.5
    reducer = SpectralReducer(5, unit_norm=True).fit(cube, mask=mask)
    gain = rng.uniform(0.5, 2.0, size=(*cube.shape[:2], 1))  # per-pixel brightness
    np.testing.assert_allclose(reducer.transform(cube * gain), reducer.transform(cube),
                               atol=1e-4)
    state = reducer.to_state()
    assert state["params"]["unit_norm"] is True
    again = SpectralReducer.from_state(state)
    assert again.unit_norm is True
    np.testing.assert_array_equal(again.transform(cube), reducer.transform(cube))
    # a state written before unit_norm existed loads without it
    old = SpectralReducer(5).fit(cube).to_state()
    del old["params"]["unit_norm"]
    assert SpectralReducer.from_state(old).unit_norm is False


def test_unit_norm_is_checked():
    with pytest.raises(ConfigError, match="unit_norm must be True or False, got 1"):
        SpectralReducer(2, unit_norm=1).fit(np.ones((4, 4, 3)))
