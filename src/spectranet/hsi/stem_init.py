"""Start a spectral stem as the whitened PCA of the training spectra (ours, issue 13).

:class:`~spectranet.hsi.models.StemFast3DCNN` replaces the paper's PCA truncation by a learned
linear projection of each pixel's spectrum. Started at random, that projection learns slowly
under the paper protocol; started as the PCA the paper uses (fitted on the training pixels and
scaled to unit variance, as :class:`~spectranet.hsi.reduce.SpectralReducer` scales its
components), the model begins where the paper's network begins and training may move the
projection from there.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA

from spectranet.errors import ConfigError, DataError
from spectranet.hsi.models import StemFast3DCNN

__all__ = ["init_stem_pca"]


def init_stem_pca(model: StemFast3DCNN, spectra: np.ndarray) -> None:
    """Set a full-projection stem to the whitened PCA of ``spectra``, in place.

    After the call, ``model.stem`` maps a pixel's spectrum ``x`` to
    ``(x - mean) @ components.T / sqrt(explained_variance)``: the scores of
    :class:`sklearn.decomposition.PCA` fitted on ``spectra``, each with unit variance over them.

    Parameters
    ----------
    model : StemFast3DCNN
        With the default full-projection stem (``stem_kernel=None``): ``C`` output channels.
    spectra : ndarray, shape (n_pixels, B)
        The training pixels' spectra as the model sees them (after the reducer); at least
        ``C + 1`` pixels, ``B`` equal to the model's bands.

    Raises
    ------
    ConfigError
        If the model has no full-projection stem, or more stem channels than bands.
    DataError
        If ``spectra`` has the wrong shape, too few pixels, non-finite values or a component of
        zero variance.
    """
    if not isinstance(model, StemFast3DCNN) or not model.full_projection:
        raise ConfigError("stem_init 'pca' needs the fast3dcnn_stem model with its default "
                          "full-projection stem")
    channels = model.stem.out_channels
    if channels > model.bands:
        raise ConfigError(f"stem_init 'pca' needs at most as many stem channels as bands, got "
                          f"{channels} channels for {model.bands} bands")
    x = np.asarray(spectra, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != model.bands or x.shape[0] <= channels:
        raise DataError(f"spectra must be (n_pixels > {channels}, {model.bands}), "
                        f"got {x.shape}")
    if not np.isfinite(x).all():
        raise DataError("spectra contain NaN or infinite values")
    if np.linalg.matrix_rank(x - x.mean(0)) < channels:
        raise DataError(f"the training spectra span fewer than {channels} directions; "
                        "cannot whiten the stem")
    pca = PCA(n_components=channels, svd_solver="full").fit(x)
    weight = pca.components_ / np.sqrt(pca.explained_variance_)[:, None]
    bias = -weight @ pca.mean_
    with torch.no_grad():
        model.stem.weight.copy_(torch.as_tensor(weight, dtype=model.stem.weight.dtype)
                                .reshape(model.stem.weight.shape))
        model.stem.bias.copy_(torch.as_tensor(bias, dtype=model.stem.bias.dtype))
