"""Comparison models of Ahmad (2020), Table IV, each after its own paper.

Every model takes a patch batch ``x`` of shape ``(N, 1, B, S, S)`` (channel, spectral bands,
height, width; ``S`` odd) and returns logits ``(N, n_classes)``: no softmax is applied, the loss
(:class:`torch.nn.CrossEntropyLoss`) or the inference code applies it. Dense layers are sized by a
dry forward pass on zeros, so each model is built for one ``(bands, window)`` pair.

The private helpers at the top are shared with :mod:`spectranet.hsi.models`, which registers
these models next to :class:`~spectranet.hsi.models.Fast3DCNN`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from spectranet.errors import ConfigError, DataError

__all__ = ["Hamida3DCNN", "Conv2DCNN", "MultiScale3DCNN", "HybridSN"]


def _check_int(name: str, value: object, *, minimum: int, odd: bool = False) -> None:
    """Raise ConfigError unless ``value`` is an int >= ``minimum`` (and odd if asked)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    if ok and odd:
        ok = value % 2 == 1  # type: ignore[operator]
    if not ok:
        kind = "an odd integer" if odd else "an integer"
        raise ConfigError(f"{name} must be {kind} >= {minimum}, got {value!r}")


def _check_rate(name: str, value: object) -> None:
    """Raise ConfigError unless ``value`` is a real number in [0, 1)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1
    if not ok:
        raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}")


def _check_dims(bands: object, window: object, n_classes: object, *, min_bands: int,
                min_window: int) -> None:
    """Validate the three geometry arguments every model takes."""
    _check_int("bands", bands, minimum=min_bands)
    _check_int("window", window, minimum=min_window, odd=True)
    _check_int("n_classes", n_classes, minimum=2)


def _check_input(x: torch.Tensor, bands: int, window: int) -> None:
    """Raise DataError unless ``x`` has shape ``(N, 1, bands, window, window)``."""
    if x.ndim != 5 or tuple(x.shape[1:]) != (1, bands, window, window):
        raise DataError(
            f"input must have shape (N, 1, {bands}, {window}, {window}), got {tuple(x.shape)}"
        )


def _flat_size(features: nn.Module, bands: int, window: int) -> int:
    """Number of features per sample after ``features``, by a dry forward pass on zeros."""
    with torch.no_grad():
        return features(torch.zeros(1, 1, bands, window, window)).numel()


def _keras_init(module: nn.Module) -> None:
    """Keras defaults (Glorot-uniform weights, zero biases) for models published in Keras."""
    if isinstance(module, nn.Conv2d | nn.Conv3d | nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class Hamida3DCNN(nn.Module):
    """3D CNN of Ben Hamida et al. (2018), the variant used in HSI benchmarks.

    A. Ben Hamida, A. Benoit, P. Lambert, C. Ben Amar, "3-D Deep Learning Approach for Remote
    Sensing Image Classification", IEEE TGRS 56(8), 2018. We follow the configuration that
    DeepHyperX (``hamida``, default patch 5) and HybridSN's and Ahmad's comparison tables use:
    conv 20@3x3x3 -> spectral "pooling" conv 20@1x1x3, stride 2 -> conv 35@3x3x3 -> pooling conv
    35@1x1x3, stride 2 -> conv 35@1x1x3 -> conv 35@1x1x2, stride 2 -> dense ``n_classes``.
    It is chosen as the "3D-CNN" of Table IV over Li et al. (2017, Remote Sensing 9(1):67)
    because it is the 3D-CNN of HybridSN's comparison, whose baselines Ahmad's Table IV shares,
    and because its layer settings are fully stated and widely reimplemented.

    Assumptions (as DeepHyperX reads the paper): spatial convolutions are valid (no padding),
    spectral kernels are zero-padded by 1; the pooling convolutions have no activation; ReLU after
    the four other convolutions; no dropout; PyTorch's default initialisation.

    Parameters
    ----------
    bands : int >= 3
        Spectral bands ``B`` of the input patches (after PCA).
    window : odd int >= 5, pixels
        Patch side ``S`` (two valid 3x3 convolutions).
    n_classes : int >= 2
        Number of classes ``K``.

    Raises
    ------
    ConfigError
        If an argument is out of range.

    Examples
    --------
    >>> Hamida3DCNN(20, 11, 16)(torch.zeros(2, 1, 20, 11, 11)).shape
    torch.Size([2, 16])
    """

    def __init__(self, bands: int, window: int, n_classes: int) -> None:
        super().__init__()
        _check_dims(bands, window, n_classes, min_bands=3, min_window=5)
        self.bands, self.window, self.n_classes = bands, window, n_classes
        spectral = {"kernel_size": (3, 1, 1), "padding": (1, 0, 0)}
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv3d(1, 20, 3)),
            ("relu1", nn.ReLU()),
            ("pool1", nn.Conv3d(20, 20, stride=(2, 1, 1), **spectral)),
            ("conv2", nn.Conv3d(20, 35, 3, padding=(1, 0, 0))),
            ("relu2", nn.ReLU()),
            ("pool2", nn.Conv3d(35, 35, stride=(2, 1, 1), **spectral)),
            ("conv3", nn.Conv3d(35, 35, **spectral)),
            ("relu3", nn.ReLU()),
            ("conv4", nn.Conv3d(35, 35, (2, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))),
            ("relu4", nn.ReLU()),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(_flat_size(self.features, bands, window), n_classes)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map patches ``(N, 1, B, S, S)`` to logits ``(N, K)``."""
        _check_input(x, self.bands, self.window)
        return self.classifier(self.features(x))


class Conv2DCNN(nn.Module):
    """2D CNN of Makantasis et al. (2015): the bands are the input channels.

    K. Makantasis, K. Karantzalos, A. Doulamis, N. Doulamis, "Deep supervised learning for
    hyperspectral data classification through convolutional neural networks", IGARSS 2015,
    pp. 4959-4962: the "2D-CNN" of HybridSN's and Ahmad's comparison tables. With ``R`` PCA
    components (here ``R = bands``): conv ``3R``@3x3 -> conv ``9R``@3x3 -> dense ``6R`` -> dense
    ``n_classes``, hyperbolic-tangent activations, no pooling. The paper uses 5x5 patches (the
    two valid convolutions leave 1x1); at larger windows the first dense layer grows with
    ``(S - 4)**2``.

    Assumptions: valid convolutions, no dropout, PyTorch's default initialisation; the input
    ``(N, 1, B, S, S)`` is folded to ``(N, B, S, S)``.

    Parameters
    ----------
    bands : int >= 1
        Spectral bands ``B`` (= ``R``, PCA components).
    window : odd int >= 5, pixels
        Patch side ``S``.
    n_classes : int >= 2
        Number of classes ``K``.

    Raises
    ------
    ConfigError
        If an argument is out of range.
    """

    def __init__(self, bands: int, window: int, n_classes: int) -> None:
        super().__init__()
        _check_dims(bands, window, n_classes, min_bands=1, min_window=5)
        self.bands, self.window, self.n_classes = bands, window, n_classes
        self.features = nn.Sequential(OrderedDict([
            ("fold", nn.Flatten(1, 2)),  # (N, 1, B, S, S) -> (N, B, S, S)
            ("conv1", nn.Conv2d(bands, 3 * bands, 3)),
            ("tanh1", nn.Tanh()),
            ("conv2", nn.Conv2d(3 * bands, 9 * bands, 3)),
            ("tanh2", nn.Tanh()),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(_flat_size(self.features, bands, window), 6 * bands)),
            ("tanh3", nn.Tanh()),
            ("fc2", nn.Linear(6 * bands, n_classes)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map patches ``(N, 1, B, S, S)`` to logits ``(N, K)``."""
        _check_input(x, self.bands, self.window)
        return self.classifier(self.features(x))


class _MultiScaleBlock(nn.Module):
    """Parallel spectral convolutions of several depths, summed (He et al. 2017, Fig. 1)."""

    def __init__(self, channels: int, depths: Sequence[int]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv3d(channels, channels, (d, 1, 1), padding=(d // 2, 0, 0)) for d in depths
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # fp32 even under bf16 autocast: the deep branches pad more planes than the input has
        # (11-deep kernel on 4 planes), and oneDNN's bf16 Conv3d returned NaN there on Indian
        # Pines (third training step), while fp32 trains normally.
        with torch.autocast(x.device.type, enabled=False):
            x = x.float()
            return torch.relu(torch.stack([branch(x) for branch in self.branches]).sum(0))


class MultiScale3DCNN(nn.Module):
    """Multi-scale 3D deep CNN (M3D-DCNN) of He, Li and Chen (2017).

    M. He, B. Li, H. Chen, "Multi-scale 3D deep convolutional neural network for hyperspectral
    image classification", ICIP 2017, pp. 3904-3908: conv 16@3x3x11, spectral stride 3 -> two
    multi-scale blocks, each four parallel convs 16@1x1x{1,3,5,11} (same padding) whose outputs
    are summed -> conv 16@2x2x3 -> dropout 0.6 (the paper's ratio) -> dense ``n_classes``.
    The paper's input is 7x7 x all bands.

    Assumptions (as DeepHyperX ``HeEtAl`` reads the paper): valid convolutions; ReLU after conv1,
    after each block's sum and after the last conv; the pooling layer of the paper is left out,
    since it does not fit the few spectral planes left after PCA; PyTorch's default
    initialisation.

    Parameters
    ----------
    bands : int >= 17
        Spectral bands ``B``; conv1 (depth 11, stride 3) must leave >= 3 planes for the last conv.
    window : odd int >= 5, pixels
        Patch side ``S`` (a valid 3x3 then a valid 2x2 convolution).
    n_classes : int >= 2
        Number of classes ``K``.
    dropout : float in [0, 1), default 0.6
        Dropout rate before the dense layer.

    Raises
    ------
    ConfigError
        If an argument is out of range.
    """

    def __init__(
        self, bands: int, window: int, n_classes: int, *, dropout: float = 0.6
    ) -> None:
        super().__init__()
        _check_dims(bands, window, n_classes, min_bands=17, min_window=5)
        _check_rate("dropout", dropout)
        self.bands, self.window, self.n_classes = bands, window, n_classes
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv3d(1, 16, (11, 3, 3), stride=(3, 1, 1))),
            ("relu1", nn.ReLU()),
            ("block1", _MultiScaleBlock(16, (1, 3, 5, 11))),
            ("block2", _MultiScaleBlock(16, (1, 3, 5, 11))),
            ("conv4", nn.Conv3d(16, 16, (3, 2, 2))),
            ("relu4", nn.ReLU()),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("dropout", nn.Dropout(dropout)),
            ("fc", nn.Linear(_flat_size(self.features, bands, window), n_classes)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map patches ``(N, 1, B, S, S)`` to logits ``(N, K)``."""
        _check_input(x, self.bands, self.window)
        return self.classifier(self.features(x))


class HybridSN(nn.Module):
    """HybridSN: 3D convolutions then a 2D convolution (Roy et al. 2019).

    S. K. Roy, G. Krishna, S. R. Dubey, B. B. Chaudhuri, "HybridSN: Exploring 3-D-2-D CNN
    Feature Hierarchy for Hyperspectral Image Classification", IEEE GRSL 17(2), 2020 (online
    2019), Table I: Conv3D 8@3x3x7, 16@3x3x5, 32@3x3x3 -> spectral planes folded into channels ->
    Conv2D 64@3x3 -> Dense 256 -> Dropout 0.4 -> Dense 128 -> Dropout 0.4 -> Dense
    ``n_classes``; valid padding, ReLU. Indian Pines at 25x25x30, 16 classes: 5,122,176
    parameters, as published.

    Assumptions: Keras initialisation (Glorot-uniform, zero bias) as in the authors' code; the
    fold orders channels as (filter, spectral plane), a permutation of Keras' reshape that does
    not change the model.

    Parameters
    ----------
    bands : int >= 13
        Spectral bands ``B`` (the paper: 30 for Indian Pines, 15 otherwise).
    window : odd int >= 9, pixels
        Patch side ``S`` (four valid 3x3 convolutions; the paper: 25).
    n_classes : int >= 2
        Number of classes ``K``.
    dropout : float in [0, 1), default 0.4
        Dropout rate after each hidden dense layer (the paper's value).

    Raises
    ------
    ConfigError
        If an argument is out of range.
    """

    def __init__(
        self, bands: int, window: int, n_classes: int, *, dropout: float = 0.4
    ) -> None:
        super().__init__()
        _check_dims(bands, window, n_classes, min_bands=13, min_window=9)
        _check_rate("dropout", dropout)
        self.bands, self.window, self.n_classes = bands, window, n_classes
        planes = bands - 6 - 4 - 2  # spectral planes left by the 7-, 5- and 3-deep kernels
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv3d(1, 8, (7, 3, 3))),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv3d(8, 16, (5, 3, 3))),
            ("relu2", nn.ReLU()),
            ("conv3", nn.Conv3d(16, 32, (3, 3, 3))),
            ("relu3", nn.ReLU()),
            ("fold", nn.Flatten(1, 2)),  # (N, 32, D, H, W) -> (N, 32 * D, H, W)
            ("conv4", nn.Conv2d(32 * planes, 64, 3)),
            ("relu4", nn.ReLU()),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(_flat_size(self.features, bands, window), 256)),
            ("relu5", nn.ReLU()),
            ("dropout1", nn.Dropout(dropout)),
            ("fc2", nn.Linear(256, 128)),
            ("relu6", nn.ReLU()),
            ("dropout2", nn.Dropout(dropout)),
            ("fc3", nn.Linear(128, n_classes)),
        ]))
        self.apply(_keras_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map patches ``(N, 1, B, S, S)`` to logits ``(N, K)``."""
        _check_input(x, self.bands, self.window)
        return self.classifier(self.features(x))
