"""The fast 3D CNN of Ahmad (2020), Table I, and our variant behind a learned spectral stem.

Both map a float32 batch of patches ``(N, 1, B, S, S)`` to logits ``(N, n_classes)``; they are
registered by name in :mod:`spectranet.hsi.models`.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from spectranet.errors import ConfigError
from spectranet.hsi.comparison_models import (
    _check_dims,
    _check_input,
    _check_rate,
    _flat_size,
    _keras_init,
)

__all__ = ["Fast3DCNN", "StemFast3DCNN", "TABLE_I_CONVS", "TABLE_I_DENSE"]

#: Ahmad (2020), Table I: (filters, spectral kernel depth) of the four 3x3-spatial Conv3D layers.
TABLE_I_CONVS: tuple[tuple[int, int], ...] = ((8, 7), (16, 5), (32, 3), (64, 3))
#: Ahmad (2020), Table I: widths of the two hidden dense layers.
TABLE_I_DENSE: tuple[int, ...] = (256, 128)


def _table_i_features(in_channels: int) -> nn.Sequential:
    """Table I's four valid Conv3D + ReLU layers, named ``conv1``..``conv4``."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for i, (filters, depth) in enumerate(TABLE_I_CONVS, start=1):
        layers[f"conv{i}"] = nn.Conv3d(in_channels, filters, (depth, 3, 3))
        layers[f"relu{i}"] = nn.ReLU()
        in_channels = filters
    return nn.Sequential(layers)


def _table_i_head(width: int, n_classes: int, dropout: float) -> nn.Sequential:
    """Table I's dense head on ``width`` flattened features: hidden layers with dropout, logits."""
    head: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
    for i, units in enumerate(TABLE_I_DENSE, start=1):
        head[f"fc{i}"] = nn.Linear(width, units)
        head[f"relu_fc{i}"] = nn.ReLU()
        head[f"dropout{i}"] = nn.Dropout(dropout)
        width = units
    head[f"fc{len(TABLE_I_DENSE) + 1}"] = nn.Linear(width, n_classes)
    return nn.Sequential(head)


class Fast3DCNN(nn.Module):
    """The fast 3D CNN of Ahmad (2020), Table I.

    M. Ahmad, "A Fast 3D CNN for Hyperspectral Image Classification", 2020, Table I: Conv3D
    8@3x3x7, 16@3x3x5, 32@3x3x3, 64@3x3x3 (depths along the spectral axis, valid padding,
    ReLU) -> flatten -> Dense 256 + ReLU -> Dropout -> Dense 128 + ReLU -> Dropout ->
    Dense ``n_classes``. At 11 x 11 x 20 with 6 classes the feature maps are 9x9x14x8, 7x7x10x16,
    5x5x8x32, 3x3x6x64 (3456 features) and the model has 994,166 parameters, as published. The
    first dense layer grows with the window: 28,519,286 parameters at 25 x 25 x 20, 6 classes.

    The paper's text prints the fourth layer's kernels as 64 x 3 x 3 x 3 x 16, but Table I's
    55,360 parameters for it are 64 x (3 x 3 x 3 x 32) + 64: its input is the third layer's 32
    feature maps. We follow Table I, whose total (994,166) matches the text's.

    Assumptions: the paper does not state the dropout rate, we default to 0.4 (HybridSN's: Roy
    et al. 2019, the paper's reference [14], which it cites for its patches and 3D
    convolutions); Keras initialisation (Glorot-uniform weights, zero biases; the paper says
    only that the weights start random).

    Parameters
    ----------
    bands : int >= 15
        Spectral bands ``B`` after PCA (the paper: 20); the valid spectral kernels 7, 5, 3, 3
        leave B - 14 planes, so B >= 15.
    window : odd int >= 9, pixels
        Patch side ``S`` (the paper: 11); four valid 3x3 convolutions need 9.
    n_classes : int >= 2
        Number of classes ``K``.
    dropout : float in [0, 1), default 0.4
        Dropout rate after each hidden dense layer.

    Raises
    ------
    ConfigError
        If an argument is out of range, e.g. "window must be an odd integer >= 9, got 10".

    Examples
    --------
    >>> model = Fast3DCNN(20, 11, 6)
    >>> count_parameters(model)
    994166
    >>> model(torch.zeros(4, 1, 20, 11, 11)).shape
    torch.Size([4, 6])
    """

    def __init__(
        self, bands: int, window: int, n_classes: int, *, dropout: float = 0.4
    ) -> None:
        super().__init__()
        _check_dims(bands, window, n_classes, min_bands=15, min_window=9)
        _check_rate("dropout", dropout)
        self.bands, self.window, self.n_classes = bands, window, n_classes
        self.features = _table_i_features(1)
        self.classifier = _table_i_head(_flat_size(self.features, bands, window), n_classes,
                                        dropout)
        self.apply(_keras_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map patches ``(N, 1, B, S, S)`` to logits ``(N, K)``.

        Raises
        ------
        DataError
            If ``x`` is not ``(N, 1, bands, window, window)``.
        """
        _check_input(x, self.bands, self.window)
        return self.classifier(self.features(x))


class StemFast3DCNN(nn.Module):
    """The fast 3D CNN behind a learned spectral stem that sees every input band (ours, issue 13).

    Not in the paper. A linear ``Conv3d(1, C, (k, 1, 1), stride (s, 1, 1))`` (no activation)
    reduces the ``B`` input bands to ``D = (B - k) // s + 1`` spectral planes of ``C`` channels,
    then Table I's four convolutions and dense head follow (:class:`Fast3DCNN`). With the default
    ``stem_kernel=None`` the kernel spans all ``B`` bands (``D = 1``): the stem is a learned linear
    projection of each pixel's spectrum to ``C`` values, and these ``C`` channels become the
    spectral axis of the paper's network (``(N, C, 1, S, S)`` read as ``(N, 1, C, S, S)``), i.e.
    a learned replacement of the PCA truncation to 20 components, trained end to end. This
    default is invariant (up to the re-learned stem) to a rotation of the input bands, so it
    sees the same information from PCA to ``B`` components as from the raw bands. With a
    shorter kernel (``D > 1``) the stem is a band-binning filter bank shared along the spectrum
    (sensible on spectrally ordered raw bands) and the ``C`` channels feed the first Table I
    convolution.

    At window 9, 16 classes, ``B = 200``, default stem (``C = 20``): 213,044 parameters
    (stem 4,020 + the fast 3D CNN at 9 x 9 x 20, 209,024).

    Parameters
    ----------
    bands : int >= 1
        Input bands ``B`` (e.g. 200 PCA components = a rotation of all bands).
    window : odd int >= 9, pixels
        Patch side ``S``.
    n_classes : int >= 2
    dropout : float in [0, 1), default 0.4
    stem_kernel : int in [1, B] or None, default None
        Spectral kernel ``k`` of the stem; None = ``B`` (a full projection).
    stem_stride : int >= 1 or None, default None
        Spectral stride ``s``; None = ``stem_kernel``.
    stem_channels : int >= 1, default 20
        Output channels ``C``; with a full projection they are the planes of the paper's
        network, so ``C >= 15``; otherwise ``D >= 15`` is required.
    pixel_hidden : int >= 0, default 0
        With ``H > 0``, a pixel branch: the centre pixel's ``B`` input bands through
        ``Linear(B, H)``, ReLU, dropout and ``Linear(H, K)``, whose logits are added to the
        network's (``fast3dcnn_stem_pixel``: ``H = 128``). 0: no branch.
    branch_dropout : float in [0, 1), default 0.5
        With a pixel branch, in training only: the share of samples whose patch logits are
        dropped, so that the pixel branch also learns to classify alone.

    Raises
    ------
    ConfigError
        If an argument is out of range or the stem leaves fewer than 15 spectral planes.

    Examples
    --------
    >>> model = StemFast3DCNN(200, 9, 16)
    >>> count_parameters(model)
    213044
    >>> model(torch.zeros(2, 1, 200, 9, 9)).shape
    torch.Size([2, 16])
    """

    def __init__(
        self, bands: int, window: int, n_classes: int, *, dropout: float = 0.4,
        stem_kernel: int | None = None, stem_stride: int | None = None,
        stem_channels: int = 20, pixel_hidden: int = 0, branch_dropout: float = 0.5,
    ) -> None:
        super().__init__()
        _check_dims(bands, window, n_classes, min_bands=1, min_window=9)
        _check_rate("dropout", dropout)
        k = bands if stem_kernel is None else stem_kernel
        s = k if stem_stride is None else stem_stride
        _check_rate("branch_dropout", branch_dropout)
        for name, value, low, high in (("stem_kernel", k, 1, bands), ("stem_stride", s, 1, None),
                                       ("stem_channels", stem_channels, 1, None),
                                       ("pixel_hidden", pixel_hidden, 0, None)):
            if (isinstance(value, bool) or not isinstance(value, int) or value < low
                    or (high is not None and value > high)):
                bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
                raise ConfigError(f"{name} must be an integer {bound}, got {value!r}")
        depth = (bands - k) // s + 1
        self.full_projection = depth == 1
        planes, in_channels = (stem_channels, 1) if self.full_projection else (depth, stem_channels)
        if planes < 15:
            raise ConfigError(
                f"the stem must leave >= 15 spectral planes for Table I's kernels, got {planes} "
                f"(bands {bands}, stem_kernel {k}, stem_stride {s}, stem_channels {stem_channels})"
            )
        self.bands, self.window, self.n_classes = bands, window, n_classes
        self.stem = nn.Conv3d(1, stem_channels, (k, 1, 1), stride=(s, 1, 1))
        self.features = _table_i_features(in_channels)
        with torch.no_grad():
            width = self.features(self._stem(torch.zeros(1, 1, bands, window, window))).numel()
        self.classifier = _table_i_head(width, n_classes, dropout)
        self.pixel = None if pixel_hidden == 0 else nn.Sequential(
            nn.Linear(bands, pixel_hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(pixel_hidden, n_classes))
        self.branch_dropout = branch_dropout
        self.apply(_keras_init)

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        z = self.stem(x)
        return z.transpose(1, 2) if self.full_projection else z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map patches ``(N, 1, B, S, S)`` to logits ``(N, K)``.

        Raises
        ------
        DataError
            If ``x`` is not ``(N, 1, bands, window, window)``.
        """
        _check_input(x, self.bands, self.window)
        logits = self.classifier(self.features(self._stem(x)))
        if self.pixel is None:
            return logits
        if self.training and self.branch_dropout > 0:
            keep = torch.rand(len(x), 1, device=x.device) >= self.branch_dropout
            logits = logits * keep.to(logits.dtype)
        centre = self.window // 2
        return logits + self.pixel(x[:, 0, :, centre, centre])
