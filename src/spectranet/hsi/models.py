"""Hyperspectral patch classifiers: the registry of models by name, building and counting them.

Input convention for every model: a float32 batch of patches ``(N, 1, B, S, S)`` (channel,
``B`` spectral bands after PCA, ``S x S`` odd window centred on the pixel). Output: logits
``(N, n_classes)``. Models never apply softmax: :class:`torch.nn.CrossEntropyLoss` does it in
training, and inference applies ``softmax(dim=1)`` (``spectranet.engine.scoring.predict_proba``).

The fast 3D CNN of Ahmad (2020) and our stem variant live in :mod:`spectranet.hsi.fast3dcnn`,
the comparison models of Ahmad's Table IV in :mod:`spectranet.hsi.comparison_models`; all are
registered here in :data:`MODELS`, the single source of model names (CLI choices, configs).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

from spectranet.errors import ConfigError
from spectranet.hsi.comparison_models import (
    Conv2DCNN,
    Hamida3DCNN,
    HybridSN,
    MultiScale3DCNN,
)
from spectranet.hsi.fast3dcnn import TABLE_I_CONVS, TABLE_I_DENSE, Fast3DCNN, StemFast3DCNN

__all__ = [
    "Fast3DCNN",
    "StemFast3DCNN",
    "Hamida3DCNN",
    "Conv2DCNN",
    "MultiScale3DCNN",
    "HybridSN",
    "MODELS",
    "list_models",
    "build_model",
    "count_parameters",
    "layer_shapes",
    "TABLE_I_CONVS",
    "TABLE_I_DENSE",
]


#: Model name -> builder ``(bands, window, n_classes, **options) -> nn.Module``.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "fast3dcnn": Fast3DCNN,
    "fast3dcnn_stem": StemFast3DCNN,
    "fast3dcnn_stem_pixel": partial(StemFast3DCNN, pixel_hidden=128),
    "hamida": Hamida3DCNN,
    "conv2d": Conv2DCNN,
    "he_multiscale": MultiScale3DCNN,
    "hybridsn": HybridSN,
}


def list_models() -> list[str]:
    """Names of the registered models, sorted.

    Returns
    -------
    list of str
        Keys of :data:`MODELS`.
    """
    return sorted(MODELS)


def build_model(
    name: str, *, bands: int, window: int, n_classes: int, **kwargs: object
) -> nn.Module:
    """Build a registered model by name.

    Parameters
    ----------
    name : str
        One of :func:`list_models`.
    bands, window, n_classes : int
        Input bands ``B``, odd patch side ``S`` (pixels) and number of classes ``K``; each
        model states its own minimum.
    **kwargs
        Model options (keyword-only constructor arguments, e.g. ``dropout``).

    Returns
    -------
    torch.nn.Module
        The model, mapping ``(N, 1, B, S, S)`` to logits ``(N, K)``.

    Raises
    ------
    ConfigError
        On an unknown name or option, or an argument out of range.
    """
    if not isinstance(name, str) or name not in MODELS:
        raise ConfigError(f"model must be one of {list_models()}, got {name!r}")
    builder = MODELS[name]
    options = [
        p.name for p in inspect.signature(builder).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise ConfigError(
            f"model {name!r} options must be among {options}, got {unknown}"
        )
    return builder(bands, window, n_classes, **kwargs)


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases), as Keras' ``summary`` counts them.

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool, default False
        Count only parameters with ``requires_grad``.

    Returns
    -------
    int
    """
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )


def layer_shapes(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    skip: tuple[type[nn.Module], ...] = (nn.ReLU, nn.Tanh),
) -> list[tuple[str, tuple[int, ...]]]:
    """Output shape of every leaf layer, for one sample: the rows of a table like Table I.

    Runs one forward pass on zeros in eval mode without gradients; the model's training mode is
    restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
    input_shape : sequence of int > 0
        Shape of one sample without the batch axis, e.g. ``(1, 20, 11, 11)`` for ``(1, B, S, S)``.
    skip : tuple of module types, default (ReLU, Tanh)
        Leaf layer types left out (activations, by default).

    Returns
    -------
    list of (str, tuple of int)
        ``(qualified layer name, output shape without the batch axis)`` in call order, PyTorch
        axis order: ``(C, D, H, W)`` for Conv3D, so Table I's 9x9x14x8 reads ``(8, 14, 9, 9)``.

    Raises
    ------
    ConfigError
        If ``input_shape`` is not a sequence of positive integers.

    Examples
    --------
    >>> layer_shapes(Fast3DCNN(20, 11, 6), (1, 20, 11, 11))[0]
    ('features.conv1', (8, 14, 9, 9))
    """
    dims = tuple(input_shape) if isinstance(input_shape, Sequence) else ()
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                           for d in dims):
        raise ConfigError(
            f"input_shape must be a sequence of positive integers, got {input_shape!r}"
        )
    rows: list[tuple[str, tuple[int, ...]]] = []

    def record(name: str) -> Callable[[nn.Module, object, torch.Tensor], None]:
        def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
            rows.append((name, tuple(output.shape[1:])))

        return hook

    handles = [
        module.register_forward_hook(record(name))
        for name, module in model.named_modules()
        if name and next(module.children(), None) is None and not isinstance(module, skip)
    ]
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros((1, *dims), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return rows
