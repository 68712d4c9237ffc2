"""CNNs for log-mel windows: Chen et al. (2019) layer specs, and Piczak's (2015) baseline.

Chen, Guo, Liang, Wang & Qian, "Environmental sound classification with dilated convolutions",
Applied Acoustics 148 (2019) 123-132, describe each model as a ``+``-separated layer string:

- ``Cov<n>``: 3x3 convolution, stride 1, 'same' padding, ReLU;
- ``Max-pooling``: 2x2 max-pooling, stride 2;
- ``DilaCov<n>(r)``: 3x3 convolution with dilation (r, r), 'same' padding, ReLU; a bare
  ``DilaCov<n>`` means r = 2 (the paper's Table 1);

followed by global average pooling, dropout 0.5 and a linear layer to the classes (logits;
softmax at inference). ``<n>`` numbers the layers of each kind from 1, in order.

**Our assumption:** the paper gives no filter counts; we use 32, 32, 64, 64 for the first four
convolutions (plain or dilated, in order) and 64 for any further one (``filters`` overrides).

``PAPER_SPECS`` holds the model structures of the paper's Tables 1-3 as printed, keyed
``table<t>_test<n>`` (Tests 1-6: two per group, groups 1-3). Table 1 pairs each dilated model
with its max-pooling twin; the dilated layers replace the pooling step and the convolutions
after it. Table 2 runs the three dilated structures at rate 2 and at rate 3. Table 3 adds one
dilated layer to each (1 -> 2, 2 -> 3, 3 -> 4). One printing slip is corrected: Table 3, Test 2
reads ``Cov3++DilaCov1``, taken as ``Cov3 + DilaCov1``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from spectranet.errors import ConfigError

__all__ = [
    "DEFAULT_FILTERS",
    "check_reach",
    "check_window_fits",
    "canonical_spec",
    "default_filters",
    "PAPER_SPECS",
    "LayerToken",
    "PiczakCNN",
    "SpecCNN",
    "build_model",
    "from_spec",
    "list_models",
    "parse_spec",
]

DEFAULT_FILTERS = (32, 32, 64, 64)  # OUR assumption; the paper does not state filter counts
_EXTRA_FILTERS = 64


def default_filters(spec: str) -> list[int]:
    """Filters per convolution of ``spec`` by default: 32, 32, 64, 64, then 64 for each extra."""
    n_conv = sum(t.kind != "pool" for t in parse_spec(spec))
    return [*DEFAULT_FILTERS, *[_EXTRA_FILTERS] * n_conv][:n_conv]

#: The structures of the paper's Tables 1-3, as printed (bare ``DilaCov<n>``: rate 2).
PAPER_SPECS: dict[str, str] = {
    "table1_test1": "Cov1 + Cov2 + Cov3 + DilaCov1",
    "table1_test2": "Cov1 + Cov2 + Cov3 + Max-pooling + Cov4",
    "table1_test3": "Cov1 + Cov2 + DilaCov1 + DilaCov2",
    "table1_test4": "Cov1 + Cov2 + Max-pooling + Cov3 + Cov4",
    "table1_test5": "Cov1 + DilaCov1 + DilaCov2 + DilaCov3",
    "table1_test6": "Cov1 + Max-pooling + Cov2 + Cov3 + Cov4",
    "table2_test1": "Cov1 + Cov2 + Cov3 + DilaCov1(2)",
    "table2_test2": "Cov1 + Cov2 + Cov3 + DilaCov1(3)",
    "table2_test3": "Cov1 + Cov2 + DilaCov1(2) + DilaCov2(2)",
    "table2_test4": "Cov1 + Cov2 + DilaCov1(3) + DilaCov2(3)",
    "table2_test5": "Cov1 + DilaCov1(2) + DilaCov2(2) + DilaCov3(2)",
    "table2_test6": "Cov1 + DilaCov1(3) + DilaCov2(3) + DilaCov3(3)",
    "table3_test1": "Cov1 + Cov2 + Cov3 + DilaCov1",
    "table3_test2": "Cov1 + Cov2 + Cov3 + DilaCov1 + DilaCov2",
    "table3_test3": "Cov1 + Cov2 + DilaCov1 + DilaCov2",
    "table3_test4": "Cov1 + Cov2 + DilaCov1 + DilaCov2 + DilaCov3",
    "table3_test5": "Cov1 + DilaCov1 + DilaCov2 + DilaCov3",
    "table3_test6": "Cov1 + DilaCov1 + DilaCov2 + DilaCov3 + DilaCov4",
}


@dataclass(frozen=True)
class LayerToken:
    """One parsed layer: ``kind`` in {"conv", "dilated", "pool"}, its number and dilation."""

    kind: Literal["conv", "dilated", "pool"]
    index: int | None
    dilation: int
    text: str


_CONV = re.compile(r"^(DilaCov|Cov)(\d+)(?:\((\d+)\))?$", re.IGNORECASE)
_POOL = re.compile(r"^Max-?pooling$", re.IGNORECASE)
_EXPECTED = "expected Cov<n>, DilaCov<n>(r) or Max-pooling"


def parse_spec(spec: str) -> list[LayerToken]:
    """Parse a layer string in the paper's notation (pure).

    Parameters
    ----------
    spec : str
        E.g. ``"Cov1 + Cov2 + Cov3 + DilaCov1(2)"``; whitespace is ignored.

    Returns
    -------
    list of LayerToken

    Raises
    ------
    ConfigError
        Unknown or malformed token, numbering out of order, rate < 1, a pooling layer first,
        or no convolution at all; the message names the token and its 1-based position.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"spec must be a non-empty layer string ({_EXPECTED}), got {spec!r}")
    tokens: list[LayerToken] = []
    counts = {"conv": 0, "dilated": 0}
    for pos, raw in enumerate(spec.split("+"), start=1):
        text = "".join(raw.split())
        where = f"at position {pos} in spec {spec!r}"
        if _POOL.match(text):
            tokens.append(LayerToken("pool", None, 1, text))
            continue
        m = _CONV.match(text)
        if not m:
            raise ConfigError(f"unknown layer {text!r} {where}; {_EXPECTED}")
        kind: Literal["conv", "dilated"] = "dilated" if m[1].lower() == "dilacov" else "conv"
        index = int(m[2])
        if kind == "conv" and m[3] is not None:
            raise ConfigError(f"layer {text!r} {where} takes no dilation rate; "
                              f"use DilaCov<n>(r)")  # fmt: skip
        rate = 2 if m[3] is None and kind == "dilated" else int(m[3] or 1)
        if rate < 1:
            raise ConfigError(f"dilation rate of {text!r} {where} must be >= 1, got {rate}")
        counts[kind] += 1
        if index != counts[kind]:
            name = "Cov" if kind == "conv" else "DilaCov"
            raise ConfigError(f"layer {text!r} {where} is out of order; expected "
                              f"{name}{counts[kind]}")  # fmt: skip
        tokens.append(LayerToken(kind, index, rate, text))
    if tokens[0].kind == "pool":
        raise ConfigError(f"spec {spec!r} must start with a convolution, got {tokens[0].text!r}")
    return tokens


def canonical_spec(spec: str) -> str:
    """The one spelling of a layer spec: single spaces, every dilation rate written out.

    Two strings name the same model exactly when their canonical forms are equal, e.g.
    ``canonical_spec("Cov1+DilaCov1") == "Cov1 + DilaCov1(2)"``.
    """
    return " + ".join("Max-pooling" if t.kind == "pool" else
                      f"Cov{t.index}" if t.kind == "conv" else f"DilaCov{t.index}({t.dilation})"
                      for t in parse_spec(spec))


class SpecCNN(nn.Module):
    """CNN built from a layer spec (Chen et al. 2019), then GAP, dropout and a linear layer.

    Parameters
    ----------
    spec : str
        Layer string, see :func:`parse_spec`.
    n_classes : int >= 2
    filters : sequence of int, optional
        Output channels of each convolution in order; default 32, 32, 64, 64, then 64
        (our assumption). A shorter list is extended with its last value.
    in_channels : int, default 2
        Log-mel and deltas.
    dropout : float in [0, 1), default 0.5
    batch_norm : bool, default False
        Batch normalisation after each convolution, before its ReLU. Not in the paper (which
        does not mention it); the standard and quick presets use it (without it, validation
        accuracy fell by 20 points in our ablation).

    Input (batch, in_channels, n_mels, frames) -> logits (batch, n_classes). Convolutions keep
    the spatial size; each max-pooling halves it (floor).
    """

    def __init__(
        self,
        spec: str,
        n_classes: int,
        filters: Sequence[int] | None = None,
        *,
        in_channels: int = 2,
        dropout: float = 0.5,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        tokens = parse_spec(spec)
        n_conv = sum(t.kind != "pool" for t in tokens)
        filters = default_filters(spec) if filters is None else list(filters)
        if 0 < len(filters) < n_conv:  # extra layers repeat the last width, as the default does
            filters += [filters[-1]] * (n_conv - len(filters))
        if len(filters) != n_conv or any(not isinstance(f, int) or f < 1 for f in filters):
            raise ConfigError(f"filters must be {n_conv} positive integers (one per convolution "
                              f"in {spec!r}), got {filters}")  # fmt: skip
        if not isinstance(n_classes, int) or n_classes < 2:
            raise ConfigError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        if in_channels < 1:
            raise ConfigError(f"in_channels must be >= 1, got {in_channels}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        channels, k = in_channels, 0
        for t in tokens:
            if t.kind == "pool":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            conv = nn.Conv2d(channels, filters[k], 3, padding=t.dilation, dilation=t.dilation,
                             bias=not batch_norm)
            norm = [nn.BatchNorm2d(filters[k])] if batch_norm else []
            layers += [conv, *norm, nn.ReLU(inplace=True)]
            channels, k = filters[k], k + 1
        self.spec, self.tokens, self.n_classes = spec, tokens, n_classes
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch, n_classes)."""
        x = self.pool(self.features(x)).flatten(1)
        return self.classifier(self.dropout(x))


def from_spec(
    spec: str,
    n_classes: int,
    filters: Sequence[int] | None = None,
    *,
    in_channels: int = 2,
    dropout: float = 0.5,
    batch_norm: bool = False,
) -> SpecCNN:
    """Build the CNN described by ``spec``; see :class:`SpecCNN`.

    Examples
    --------
    >>> model = from_spec("Cov1 + Cov2 + Cov3 + DilaCov1(2)", n_classes=10)
    >>> model(torch.zeros(1, 2, 64, 41)).shape
    torch.Size([1, 10])
    """
    return SpecCNN(spec, n_classes, filters, in_channels=in_channels, dropout=dropout,
                   batch_norm=batch_norm)


class PiczakCNN(nn.Module):
    """Piczak (2015), "Environmental sound classification with convolutional neural networks".

    Conv 80 @ 57x6 (stride 1) + ReLU, max-pool 4x3 stride 1x3; conv 80 @ 1x3 +
    ReLU, max-pool 1x3 stride 1x3; two dense layers of 5000 ReLUs with dropout 0.5; linear
    output (logits). The flatten size comes from a dry forward pass on zeros (1200 for 64x41;
    ~31 M parameters). Piczak used 60 bands; we feed the same 64-band windows as Chen et al.

    Parameters
    ----------
    n_classes : int >= 2
    in_channels : int, default 2
    n_mels : int >= 60, default 64
    frames : int, default 41
    dropout : float, default 0.5
    """

    def __init__(
        self,
        n_classes: int,
        *,
        in_channels: int = 2,
        n_mels: int = 64,
        frames: int = 41,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if not isinstance(n_classes, int) or n_classes < 2:
            raise ConfigError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        if n_mels < 60 or frames < 15:
            raise ConfigError(f"PiczakCNN needs n_mels >= 60 and frames >= 15, "
                              f"got n_mels={n_mels}, frames={frames}")  # fmt: skip
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 80, kernel_size=(57, 6)),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(4, 3), stride=(1, 3)),
            nn.Conv2d(80, 80, kernel_size=(1, 3)),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=(1, 3), stride=(1, 3)),
        )
        with torch.no_grad():
            flat = self.features(torch.zeros(1, in_channels, n_mels, frames)).numel()
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, 5000), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(5000, 5000), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(5000, n_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch, n_classes)."""
        return self.classifier(self.features(x))


def _piczak(n_classes: int, *, filters: Sequence[int] | None = None, batch_norm: bool = False,
            **kw: Any) -> PiczakCNN:
    if filters is not None:
        raise ConfigError(f"filters must be None for 'piczak' (fixed 80, 80), got {filters}")
    if batch_norm:
        raise ConfigError("batch_norm is not available for 'piczak' (the 2015 design has none)")
    return PiczakCNN(n_classes, **kw)


_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "piczak": _piczak,
    **{
        name: (lambda n_classes, _s=spec, **kw: from_spec(_s, n_classes, **kw))
        for name, spec in PAPER_SPECS.items()
    },
}


def list_models() -> list[str]:
    """Return the registered model names: the paper specs and ``piczak``."""
    return sorted(_BUILDERS)


def build_model(name_or_spec: str, n_classes: int, **kwargs: Any) -> nn.Module:
    """Build a registered model by name, or any layer spec string.

    Parameters
    ----------
    name_or_spec : str
        A name from :func:`list_models` or a spec like ``"Cov1 + DilaCov1(3)"``.
    n_classes : int >= 2
    **kwargs
        Passed to the builder (``filters``, ``in_channels``, ``dropout``; ``n_mels`` and
        ``frames`` for ``piczak``).

    Raises
    ------
    ConfigError
        Neither a registered name nor a valid spec.
    """
    if name_or_spec in _BUILDERS:
        return _BUILDERS[name_or_spec](n_classes, **kwargs)
    if isinstance(name_or_spec, str) and re.search(r"cov|pool", name_or_spec, re.IGNORECASE):
        return from_spec(name_or_spec, n_classes, **kwargs)
    raise ConfigError(f"model must be one of {list_models()} or a layer spec "
                      f"({_EXPECTED}), got {name_or_spec!r}")  # fmt: skip


def check_reach(spec: str, n_mels: int, frames: int) -> None:
    """Refuse a layer spec whose kernels reach beyond the window they see (pure).

    A 3 x 3 convolution with dilation r spans 2r + 1 bins; on an input smaller than that, its
    outer taps fall into the zero padding for most positions (for r >= the input size, for
    all: the layer is a 1 x 1 convolution in disguise). Each layer's input is the window after
    the max-poolings before it. Registered names are checked as their spec; ``piczak`` (fixed
    kernels, checked by :class:`PiczakCNN`) is not.

    Parameters
    ----------
    spec : str
        A layer spec (:func:`parse_spec`) or a registered model name.
    n_mels, frames : int
        Window height (mel bands) and width (frames).

    Raises
    ------
    ConfigError
        Naming the layer, its reach and the window it sees.

    Examples
    --------
    >>> check_reach("Cov1 + DilaCov1(20)", 64, 41)  # reach 41: fits
    >>> check_reach("Cov1 + DilaCov1(100)", 64, 41)
    Traceback (most recent call last):
    ...
    spectranet.errors.ConfigError: arch: DilaCov1(100) (layer 2) reaches 201 x 201 bins ...
    """
    if spec == "piczak":
        return
    h, w, pooled = n_mels, frames, False
    for pos, t in enumerate(parse_spec(PAPER_SPECS.get(spec, spec)), start=1):
        if t.kind == "pool":
            h, w, pooled = h // 2, w // 2, True
            continue
        reach = 2 * t.dilation + 1
        if min(h, w) >= 1 and reach > min(h, w):
            after = " after pooling" if pooled else ""
            raise ConfigError(f"arch: {t.text} (layer {pos}) reaches {reach} x {reach} bins "
                              f"(3 x 3 taps at dilation {t.dilation}) but its input window is "
                              f"{h} x {w} (mel bands x frames{after}); it would see little "
                              "more than its centre: use a smaller dilation or a larger window")


def check_window_fits(model: nn.Module, spec: str, n_mels: int, frames: int,
                      in_channels: int = 2) -> None:
    """Run ``model`` once on a zero window to check that its layers fit the input size.

    Parameters
    ----------
    model : nn.Module
        Built from ``spec`` (e.g. by :func:`build_model`).
    spec : str
        The layer spec or model name, for the message.
    n_mels, frames : int
        Window height (mel bands) and width (frames).
    in_channels : int, default 2
        Log-mel and delta.

    Raises
    ------
    ConfigError
        A kernel reaches beyond its input (:func:`check_reach`), or pooling shrinks the
        window to nothing before the classifier.
    """
    if isinstance(model, SpecCNN):
        check_reach(model.spec, n_mels, frames)
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, in_channels, n_mels, frames))
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"arch {spec!r} does not fit a {in_channels} x {n_mels} x {frames} "
                          f"window: its pooling shrinks it to nothing ({reason})") from None
    finally:
        model.train(was_training)
