"""Unsupervised feature learning: spherical k-means codes of whitened log-mel patches.

Our implementation of the idea of Salamon & Bello (2015, "Unsupervised feature learning for
urban sound classification", ICASSP), the 73.6 % row of Chen et al.'s (2019) Table 4, built from
scikit-learn's pieces. That paper is not among the project's papers: this module follows the
description in issue 23 (spherical k-means dictionary on PCA-whitened log-mel patches, pooled
features, a random forest), not a verified copy of the original. Every setting below is our
choice:

- log-mel spectrogram: 40 Slaney mel bands, 22,050 Hz, FFT 1024, hop 512 (23.2 ms), dB re 1.0
  clipped 80 dB below the clip's peak (:func:`spectranet.audio.features.log_mel`);
- patch: 16 consecutive frames (~0.37 s) stacked into one vector of 40 x 16 = 640 values,
  one patch per frame (hop 1); a clip shorter than 16 frames is repeated up to 16 frames;
- whitening: :class:`sklearn.decomposition.PCA` with ``whiten=True`` keeping 99 % of the
  variance, fitted on at most 50,000 patches drawn at random from the training clips only;
- dictionary: 1,024 unit-norm centroids learnt by spherical k-means (15 iterations) on the
  whitened, unit-normalised training patches;
- code of a patch: its projections (dot products) on the centroids after whitening and unit
  normalisation; clip feature: mean and standard deviation of each centroid's projection over
  the clip's patches (2 x 1,024 = 2,048 values);
- classifier: a random forest of 500 trees, sqrt(features) per split
  (:class:`sklearn.ensemble.RandomForestClassifier`).

The dictionary size and patch count were set by cost, not by any score: one UrbanSound8K fold
(907 training clips, every clip encoded) is learnt, encoded and classified in 81 s on one CPU
core of this shared machine (``benchmarks/bench_table4_rows.txt``). The cross-validation with
a random forest: :mod:`spectranet.audio.ufl_baseline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from spectranet.errors import ConfigError, DataError, NotFittedError

__all__ = ["SphericalKMeansFeatures", "encode_patches", "mel_patches", "pool_codes",
           "spherical_kmeans"]

_EPS = 1e-8  # floor of a norm before dividing by it (an all-zero whitened patch)


def _check_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def mel_patches(logmel: np.ndarray, *, patch_frames: int = 16, hop: int = 1) -> np.ndarray:
    """Stack ``patch_frames`` consecutive frames of a spectrogram into one vector per patch.

    Parameters
    ----------
    logmel : ndarray, shape (n_mels, T), float
        A log-mel spectrogram (dB); ``T >= 1`` frames.
    patch_frames : int >= 1, frames, default 16
    hop : int >= 1, frames, default 1
        Patch k covers frames ``[k * hop, k * hop + patch_frames)``.

    Returns
    -------
    ndarray, shape (1 + (T' - patch_frames) // hop, n_mels * patch_frames), float64
        Row k is ``logmel[:, k * hop : k * hop + patch_frames].ravel()`` (band-major: the
        first ``patch_frames`` values are band 0). A spectrogram shorter than one patch is
        first repeated along time up to ``T' = patch_frames`` frames; otherwise ``T' = T``.
    """
    _check_int("patch_frames", patch_frames)
    _check_int("hop", hop)
    x = np.asarray(logmel, dtype=np.float64)
    if x.ndim != 2 or 0 in x.shape:
        raise DataError(f"logmel must have shape (n_mels, frames) with both >= 1, got {x.shape}")
    if x.shape[1] < patch_frames:
        x = np.pad(x, ((0, 0), (0, patch_frames - x.shape[1])), mode="wrap")
    view = np.lib.stride_tricks.sliding_window_view(x, patch_frames, axis=1)[:, ::hop]
    return np.ascontiguousarray(view.transpose(1, 0, 2)).reshape(view.shape[1], -1)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), _EPS)


def spherical_kmeans(x: np.ndarray, n_clusters: int, *, n_iter: int = 15,
                     rng: np.random.Generator) -> np.ndarray:
    """Unit-norm centroids of unit-norm rows by spherical k-means (cosine similarity).

    Starts from ``n_clusters`` distinct rows drawn with ``rng``; each iteration assigns every
    row to the centroid of largest dot product and sets each centroid to the normalised sum of
    its rows. A centroid left without rows is replaced by a row drawn with ``rng``.

    Parameters
    ----------
    x : ndarray, shape (n, d), float
        Rows are normalised to unit length here (a zero row stays zero).
    n_clusters : int, 1 <= n_clusters <= n
    n_iter : int >= 1, default 15
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (n_clusters, d), float64, rows of unit norm
    """
    _check_int("n_clusters", n_clusters)
    _check_int("n_iter", n_iter)
    x = _unit_rows(np.asarray(x, dtype=np.float64))
    if x.ndim != 2 or x.shape[0] < n_clusters:
        raise DataError(f"x must have shape (n >= n_clusters={n_clusters}, d), got {x.shape}")
    centroids = x[rng.choice(x.shape[0], size=n_clusters, replace=False)]
    for _ in range(n_iter):
        nearest = (x @ centroids.T).argmax(axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, x)
        empty = np.linalg.norm(sums, axis=1) < _EPS
        if empty.any():
            sums[empty] = x[rng.choice(x.shape[0], size=int(empty.sum()), replace=False)]
        centroids = _unit_rows(sums)
    return centroids


def encode_patches(patches: np.ndarray, *, mean: np.ndarray, whitening: np.ndarray,
                   centroids: np.ndarray) -> np.ndarray:
    """Codes of patches: projections of the whitened, unit-normalised patches on the centroids.

    Parameters
    ----------
    patches : ndarray, shape (n, d)
    mean : ndarray, shape (d,)
        Subtracted before whitening.
    whitening : ndarray, shape (d, c)
        ``(patches - mean) @ whitening`` are the whitened patches (c components).
    centroids : ndarray, shape (k, c)

    Returns
    -------
    ndarray, shape (n, k), float64
        ``u @ centroids.T`` with ``u`` the whitened patches scaled to unit norm.
    """
    white = (np.asarray(patches, dtype=np.float64) - mean) @ whitening
    return _unit_rows(white) @ np.asarray(centroids, dtype=np.float64).T


def pool_codes(codes: np.ndarray) -> np.ndarray:
    """One clip's feature: mean then standard deviation (ddof 0) of each code column.

    Parameters
    ----------
    codes : ndarray, shape (n_patches >= 1, k)

    Returns
    -------
    ndarray, shape (2 * k,), float64
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise DataError(f"codes must have shape (n_patches >= 1, k), got {codes.shape}")
    return np.concatenate([codes.mean(axis=0), codes.std(axis=0)])


class SphericalKMeansFeatures(TransformerMixin, BaseEstimator):
    """Clip features learnt without labels: a spherical k-means dictionary of log-mel patches.

    ``fit`` draws at most ``max_patches`` patches (:func:`mel_patches`) from the given
    spectrograms, fits a whitening PCA on them (``pca_``) and learns ``n_centroids`` unit-norm
    centroids (``centroids_``) on the whitened, unit-normalised patches
    (:func:`spherical_kmeans`). ``transform`` encodes every patch of each spectrogram
    (:func:`encode_patches`) and pools the codes per clip (:func:`pool_codes`); it does not
    change the fitted state. Fit on training clips only.

    Parameters
    ----------
    n_centroids : int >= 1, default 1024
        Dictionary size k; the output has 2 k features.
    patch_frames : int >= 1, frames, default 16
    patch_hop : int >= 1, frames, default 1
    n_components : float in (0, 1] or int >= 1, default 0.99
        PCA components kept: a fraction of the variance, or a count.
    max_patches : int >= n_centroids, default 50000
        Patches drawn (without replacement) from all patches of the fitted clips.
    n_iter : int >= 1, default 15
        Spherical k-means iterations.
    random_state : int >= 0, default 0
        Seeds the patch draw and the k-means start: same data and seed, same features.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
    centroids_ : ndarray, shape (n_centroids, pca_.n_components_)
    n_mels_ : int
        Mel bands of the fitted spectrograms; ``transform`` needs the same.
    n_patches_fit_ : int
        Patches the PCA and the dictionary were learnt on.
    """

    def __init__(self, n_centroids: int = 1024, *, patch_frames: int = 16, patch_hop: int = 1,
                 n_components: float | int = 0.99, max_patches: int = 50000, n_iter: int = 15,
                 random_state: int = 0) -> None:
        self.n_centroids = n_centroids
        self.patch_frames = patch_frames
        self.patch_hop = patch_hop
        self.n_components = n_components
        self.max_patches = max_patches
        self.n_iter = n_iter
        self.random_state = random_state

    def _check_params(self) -> None:
        for name in ("n_centroids", "patch_frames", "patch_hop", "n_iter"):
            _check_int(name, getattr(self, name))
        _check_int("max_patches", self.max_patches, minimum=self.n_centroids)
        _check_int("random_state", self.random_state, minimum=0)
        c = self.n_components
        if isinstance(c, bool) or not (
                (isinstance(c, float) and 0 < c <= 1) or (isinstance(c, int) and c >= 1)):
            raise ConfigError(f"n_components must be a float in (0, 1] or an integer >= 1, "
                              f"got {c!r}")

    def _check_spectrograms(self, x: Sequence[np.ndarray], n_mels: int | None) -> list:
        if isinstance(x, np.ndarray) and x.ndim == 2:
            raise DataError("X must be a sequence of (n_mels, frames) spectrograms, got one "
                            f"2-D array of shape {x.shape}")
        specs = [np.asarray(s, dtype=np.float64) for s in x]
        if not specs:
            raise DataError("X must hold at least one spectrogram, got 0")
        for i, s in enumerate(specs):
            if s.ndim != 2 or 0 in s.shape:
                raise DataError(f"X[{i}] must have shape (n_mels, frames >= 1), got {s.shape}")
            if not np.isfinite(s).all():
                raise DataError(f"X[{i}] must be finite, got NaN or inf")
            if s.shape[0] != (n_mels or specs[0].shape[0]):
                raise DataError(f"X[{i}] must have {n_mels or specs[0].shape[0]} mel bands, "
                                f"got {s.shape[0]}")
        return specs

    def _patches(self, spec: np.ndarray) -> np.ndarray:
        return mel_patches(spec, patch_frames=self.patch_frames, hop=self.patch_hop)

    def fit(self, X: Sequence[np.ndarray], y: Any = None) -> SphericalKMeansFeatures:
        """Learn the whitening and the dictionary from spectrograms ``X`` (labels unused).

        Parameters
        ----------
        X : sequence of ndarray, each shape (n_mels, frames)
            Log-mel spectrograms of the training clips (same ``n_mels``).
        y : ignored

        Returns
        -------
        self
        """
        from sklearn.decomposition import PCA

        self._check_params()
        specs = self._check_spectrograms(X, None)
        rng = np.random.default_rng(self.random_state)
        counts = np.array([1 + (max(s.shape[1], self.patch_frames) - self.patch_frames)
                           // self.patch_hop for s in specs])
        total = int(counts.sum())
        if total < self.n_centroids:
            raise DataError(f"X holds {total} patches, fewer than n_centroids="
                            f"{self.n_centroids}")
        drawn = np.sort(rng.choice(total, size=min(total, self.max_patches), replace=False))
        clip = np.searchsorted(np.cumsum(counts), drawn, side="right")
        offset = drawn - np.concatenate([[0], np.cumsum(counts)[:-1]])[clip]
        sample = np.concatenate([self._patches(specs[c])[offset[clip == c]]
                                 for c in np.unique(clip)])
        self.pca_ = PCA(n_components=self.n_components, whiten=True, svd_solver="full",
                        random_state=self.random_state).fit(sample)
        self.centroids_ = spherical_kmeans(self.pca_.transform(sample), self.n_centroids,
                                           n_iter=self.n_iter, rng=rng)
        self.n_mels_ = int(specs[0].shape[0])
        self.n_patches_fit_ = int(sample.shape[0])
        return self

    def whitening(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, matrix)`` of the fitted PCA whitening, as :func:`encode_patches` takes them."""
        if not hasattr(self, "centroids_"):
            raise NotFittedError("SphericalKMeansFeatures is not fitted: call fit(X) on "
                                 "training spectrograms")
        pca = self.pca_
        return pca.mean_, pca.components_.T / np.sqrt(pca.explained_variance_)

    def transform(self, X: Sequence[np.ndarray]) -> np.ndarray:
        """Pooled codes of each spectrogram.

        Parameters
        ----------
        X : sequence of ndarray, each shape (n_mels_, frames)

        Returns
        -------
        ndarray, shape (len(X), 2 * n_centroids), float64
            Per clip: the mean, then the standard deviation, of each centroid's projection.
        """
        mean, matrix = self.whitening()
        specs = self._check_spectrograms(X, self.n_mels_)
        return np.stack([pool_codes(encode_patches(self._patches(s), mean=mean,
                                                   whitening=matrix, centroids=self.centroids_))
                         for s in specs])
