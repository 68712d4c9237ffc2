"""Spectral reduction of a hyperspectral cube: incremental PCA, then per-component scaling.

Ahmad (2020) reduces the bands with PCA fitted on the whole cube (the paper protocol). The
leakage-free protocol fits on the training pixels only (``mask``). The components are then
standardised: unscaled PCA output makes the first epochs' loss explode. Optionally each pixel's
spectrum is first divided by its L2 norm (``unit_norm``): its shape is kept, its brightness
(illumination, shading) removed.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.decomposition import IncrementalPCA
from sklearn.preprocessing import StandardScaler
from sklearn.utils import gen_batches

from spectranet.errors import ConfigError, DataError, NotFittedError

__all__ = ["SpectralReducer", "unit_normalise", "check_components_without_pca"]

# Pixels transformed per chunk: bounds the float64 temporaries of transform (~16 MB at 200 bands).
_CHUNK = 10_000


def _check_cube(cube: Any, name: str = "cube") -> np.ndarray:
    if not isinstance(cube, np.ndarray) or cube.ndim != 3:
        shape = getattr(cube, "shape", type(cube).__name__)
        raise DataError(f"{name} must be a 3-D (H, W, bands) ndarray, got {shape}")
    if not (np.issubdtype(cube.dtype, np.floating) or np.issubdtype(cube.dtype, np.integer)):
        raise DataError(f"{name} must hold real numbers, got dtype {cube.dtype}")
    if 0 in cube.shape:
        raise DataError(f"{name} must not be empty, got shape {cube.shape}")
    if np.issubdtype(cube.dtype, np.floating) and not np.isfinite(cube).all():
        raise DataError(f"{name} must hold finite values, got NaN or inf")
    return cube


def check_components_without_pca(n_components: int, n_bands: int) -> None:
    """Raise :class:`ConfigError` unless ``n_components == n_bands`` (no PCA: bands kept)."""
    if n_components != n_bands:
        raise ConfigError(f"without PCA (--no-pca) components must equal the cube's number of "
                          f"bands ({n_bands}), got {n_components}")


def unit_normalise(spectra: np.ndarray) -> np.ndarray:
    """Each row of ``spectra`` divided by its L2 norm; all-zero rows stay zero.

    Parameters
    ----------
    spectra : ndarray, shape (N, bands), float
        One pixel's spectrum per row, in the cube's units.

    Returns
    -------
    ndarray, shape (N, bands), float64
        Unit-length rows (dimensionless).

    Examples
    --------
    >>> unit_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    spectra = np.asarray(spectra, dtype=np.float64)
    norms = np.linalg.norm(spectra, axis=1, keepdims=True)
    return spectra / np.where(norms > 0, norms, 1.0)


class SpectralReducer:
    """Incremental PCA of the spectra, then standardisation of the components.

    sklearn-style estimator: ``__init__`` only stores parameters, :meth:`fit` validates and
    learns, learned state ends in ``_``.

    Parameters
    ----------
    n_components : int >= 1, default 20
        Components kept; must not exceed the number of bands.
    batch_size : int >= n_components or None, default None
        Pixels per :class:`~sklearn.decomposition.IncrementalPCA` step; None = 5 x bands
        (sklearn's default).
    whiten : bool, default False
        Passed to :class:`~sklearn.decomposition.IncrementalPCA`.
    scale : bool, default True
        Standardise each component (zero mean, unit variance on the fitted pixels).
    pca : bool, default True
        False skips the PCA: the "components" are the bands themselves (so ``n_components``
        must equal the number of bands), standardised per band if ``scale``. Unlike PCA to
        every band followed by scaling, this does not whiten the low-variance directions (not
        in the paper; issue 13).
    unit_norm : bool, default False
        Divide each pixel's spectrum by its L2 norm before the PCA and the scaling, at fit and
        at transform (see :func:`unit_normalise`; not in the paper; issue 13).

    Attributes
    ----------
    pca_ : IncrementalPCA or None
        None when ``pca`` is False.
    scaler_ : StandardScaler or None
    n_bands_in_ : int
    n_pixels_fit_ : int
    explained_variance_ : ndarray, shape (n_components,)
        Variance of each component (without PCA: of each band) on the fitted pixels.
    explained_variance_ratio_ : ndarray, shape (n_components,)

    Examples
    --------
    >>> reducer = SpectralReducer(20).fit(cube, mask=train_mask)   # leakage-free protocol
    >>> reduced = reducer.transform(cube)                           # (H, W, 20) float32
    """

    def __init__(
        self,
        n_components: int = 20,
        *,
        batch_size: int | None = None,
        whiten: bool = False,
        scale: bool = True,
        pca: bool = True,
        unit_norm: bool = False,
    ) -> None:
        self.n_components = n_components
        self.batch_size = batch_size
        self.whiten = whiten
        self.scale = scale
        self.pca = pca
        self.unit_norm = unit_norm

    def __repr__(self) -> str:
        return (f"SpectralReducer(n_components={self.n_components!r}, "
                f"batch_size={self.batch_size!r}, whiten={self.whiten!r}, scale={self.scale!r}, "
                f"pca={self.pca!r}, unit_norm={self.unit_norm!r})")

    def _check_params(self, n_bands: int) -> int:
        n = self.n_components
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ConfigError(f"n_components must be an integer >= 1, got {n!r}")
        if n > n_bands:
            raise ConfigError(f"n_components must be <= the number of bands ({n_bands}), got {n}")
        if not isinstance(self.pca, bool):
            raise ConfigError(f"pca must be True or False, got {self.pca!r}")
        if not isinstance(self.unit_norm, bool):
            raise ConfigError(f"unit_norm must be True or False, got {self.unit_norm!r}")
        if not self.pca:
            check_components_without_pca(n, n_bands)
        bs = self.batch_size
        if bs is not None and (isinstance(bs, bool) or not isinstance(bs, Integral) or bs < n):
            raise ConfigError(f"batch_size must be None or an integer >= n_components ({n}), "
                              f"got {bs!r}")
        return int(bs) if bs is not None else 5 * n_bands

    def fit(self, cube: np.ndarray, mask: np.ndarray | None = None) -> SpectralReducer:
        """Fit the PCA and the scaler on the pixels of ``cube`` where ``mask`` is True.

        Parameters
        ----------
        cube : ndarray, shape (H, W, bands), real
            The scene; any real dtype (computations in float64).
        mask : bool ndarray, shape (H, W), or None, default None
            Pixels to fit on (e.g. the training pixels); None = every pixel (paper protocol).

        Returns
        -------
        self

        Raises
        ------
        DataError
            Malformed cube or mask, NaN/inf, or fewer masked pixels than components.
        ConfigError
            Invalid parameters, e.g. more components than bands.
        """
        cube = _check_cube(cube)
        h, w, bands = cube.shape
        batch_size = self._check_params(bands)
        if mask is None:
            pixels = np.arange(h * w)
        else:
            mask = np.asarray(mask)
            if mask.shape != (h, w) or mask.dtype != bool:
                raise DataError(f"mask must be a bool array of shape {(h, w)}, "
                                f"got {mask.dtype} {mask.shape}")
            pixels = np.flatnonzero(mask)
        if pixels.size < self.n_components:
            raise DataError(f"mask must select >= n_components ({self.n_components}) pixels, "
                            f"got {pixels.size}")
        flat = cube.reshape(-1, bands)
        pca = None
        if self.pca:
            pca = IncrementalPCA(self.n_components, whiten=self.whiten, batch_size=batch_size)
            # The same batches as IncrementalPCA.fit, gathered one at a time to bound memory.
            for batch in gen_batches(pixels.size, batch_size, min_batch_size=self.n_components):
                pca.partial_fit(self._spectra(flat[pixels[batch]]), check_input=False)
        # per-component statistics: the scaler, and without PCA the bands' variances
        stats = StandardScaler()
        for start in range(0, pixels.size, _CHUNK):
            chunk = self._spectra(flat[pixels[start:start + _CHUNK]])
            stats.partial_fit(chunk if pca is None else pca.transform(chunk))
        if pca is None:
            var = stats.var_
            self.explained_variance_ = var
            self.explained_variance_ratio_ = var / var.sum() if var.sum() > 0 else var
        else:
            self.explained_variance_ = pca.explained_variance_
            self.explained_variance_ratio_ = pca.explained_variance_ratio_
        self.pca_, self.scaler_ = pca, stats if self.scale else None
        self.n_bands_in_, self.n_pixels_fit_ = bands, int(pixels.size)
        return self

    def _spectra(self, pixels: np.ndarray) -> np.ndarray:
        """Rows of the cube as float64, unit-normalised when ``unit_norm``."""
        return unit_normalise(pixels) if self.unit_norm else pixels.astype(np.float64)

    def transform(self, cube: np.ndarray) -> np.ndarray:
        """Project every pixel of ``cube`` on the fitted components.

        Parameters
        ----------
        cube : ndarray, shape (H, W, bands), real
            Must have the fitted number of bands.

        Returns
        -------
        ndarray, shape (H, W, n_components), float32

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        DataError
            Malformed cube, NaN/inf, or a different number of bands than at fit.
        """
        if not hasattr(self, "pca_"):
            raise NotFittedError("SpectralReducer is not fitted: call fit(cube) before transform")
        cube = _check_cube(cube)
        h, w, bands = cube.shape
        if bands != self.n_bands_in_:
            raise DataError(f"cube must have {self.n_bands_in_} bands as at fit, got {bands}")
        flat = cube.reshape(-1, bands)
        out = np.empty((h * w, self.n_components), dtype=np.float32)
        for start in range(0, h * w, _CHUNK):
            z = self._spectra(flat[start:start + _CHUNK])
            if self.pca_ is not None:
                z = self.pca_.transform(z)
            out[start:start + _CHUNK] = self.scaler_.transform(z) if self.scaler_ else z
        return out.reshape(h, w, -1)

    def to_state(self) -> dict[str, Any]:
        """The fitted state as plain numbers and lists (for a ``weights_only`` checkpoint)."""
        if not hasattr(self, "pca_"):
            raise NotFittedError("SpectralReducer is not fitted: call fit(cube) first")
        pca, scaler = self.pca_, self.scaler_
        return {
            "params": {"n_components": int(self.n_components), "batch_size": self.batch_size,
                       "whiten": bool(self.whiten), "scale": bool(self.scale),
                       "pca": bool(self.pca), "unit_norm": bool(self.unit_norm)},
            "n_bands_in": int(self.n_bands_in_), "n_pixels_fit": int(self.n_pixels_fit_),
            "mean": None if pca is None else pca.mean_.tolist(),
            "components": None if pca is None else pca.components_.tolist(),
            "explained_variance": self.explained_variance_.tolist(),
            "explained_variance_ratio": self.explained_variance_ratio_.tolist(),
            "scaler_mean": None if scaler is None else scaler.mean_.tolist(),
            "scaler_scale": None if scaler is None else scaler.scale_.tolist(),
        }

    def affine(self) -> dict[str, Any]:
        """The fitted reduction as plain numbers, for code without spectranet (an export).

        Returns
        -------
        dict
            ``input_bands``, ``components`` (K), ``unit_norm``, ``reduce`` (the formula, in
            words), ``pca_mean`` (bands,), ``pca_components`` (K, bands; the identity without
            PCA, whitening folded in), ``scale_mean`` and ``scale_std`` (K,; 0 and 1 without
            scaling), ``explained_variance_ratio`` (K,): float lists.
        """
        if not hasattr(self, "pca_"):
            raise NotFittedError("SpectralReducer is not fitted: call fit(cube) first")
        pca, scaler, n_in = self.pca_, self.scaler_, int(self.n_bands_in_)
        if pca is None:  # written as the identity, so that one formula holds
            mean, components = np.zeros(n_in), np.eye(n_in)
        else:
            mean, components = pca.mean_, pca.components_
            if pca.whiten:  # folded in, likewise
                components = components / np.sqrt(pca.explained_variance_)[:, None]
        k = components.shape[0]
        return {
            "input_bands": n_in,
            "components": k,
            "unit_norm": bool(self.unit_norm),
            "reduce": "per pixel, in float64: with unit_norm, spectrum = spectrum / "
                      "||spectrum||_2 (all-zero spectra kept); then z = ((spectrum - pca_mean) "
                      "@ pca_components.T - scale_mean) / scale_std, then float32",
            "pca_mean": _floats(mean),
            "pca_components": _floats(components),
            "scale_mean": _floats(scaler.mean_ if scaler is not None else np.zeros(k)),
            "scale_std": _floats(scaler.scale_ if scaler is not None else np.ones(k)),
            "explained_variance_ratio": _floats(self.explained_variance_ratio_),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SpectralReducer:
        """Rebuild a fitted reducer from :meth:`to_state`; it transforms exactly as before.

        States written before ``unit_norm`` existed have no such key and load as False. States
        without PCA written before ``pca_`` could be None hold an identity projection with
        zero mean, which is dropped (it changes nothing).
        """
        obj = cls(**state["params"])
        variance = np.asarray(state["explained_variance"], dtype=np.float64)
        ratio = np.asarray(state["explained_variance_ratio"], dtype=np.float64)
        pca = None
        if obj.pca:
            pca = IncrementalPCA(obj.n_components, whiten=obj.whiten)
            pca.mean_ = np.asarray(state["mean"], dtype=np.float64)
            pca.components_ = np.asarray(state["components"], dtype=np.float64)
            pca.explained_variance_, pca.explained_variance_ratio_ = variance, ratio
            pca.n_components_, pca.n_features_in_ = pca.components_.shape
        scaler = None
        if state["scaler_mean"] is not None:
            scaler = StandardScaler()
            scaler.mean_ = np.asarray(state["scaler_mean"], dtype=np.float64)
            scaler.scale_ = np.asarray(state["scaler_scale"], dtype=np.float64)
            scaler.var_ = scaler.scale_ ** 2
            scaler.n_features_in_ = scaler.mean_.size
        obj.pca_, obj.scaler_ = pca, scaler
        obj.n_bands_in_, obj.n_pixels_fit_ = state["n_bands_in"], state["n_pixels_fit"]
        obj.explained_variance_, obj.explained_variance_ratio_ = variance, ratio
        return obj

    def fit_transform(self, cube: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """:meth:`fit` on the masked pixels, then :meth:`transform` the whole cube."""
        return self.fit(cube, mask).transform(cube)


def _floats(a: np.ndarray) -> list[Any]:
    return np.asarray(a, dtype=np.float64).tolist()
