"""Numeric precision and memory layout of the training and inference loops.

``precision="bf16"`` runs under bfloat16 autocast. In training, convolutions with a single input
channel stay in float32: the weight gradient of oneDNN's bf16 kernel for one input channel
measured 4-5 times slower than fp32 on the fast 3D CNN's first layer (AVX512-BF16, no AMX); in
inference bf16 is faster there and is kept. ``memory_format="auto"`` puts 4-D activations and
weights in channels-last layout under bf16 (measured faster for 2-D CNNs; channels-last-3d
measured slower for Conv3d training, so 5-D tensors stay contiguous). Figures:
``benchmarks/bench_training_throughput.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import torch
from torch import nn

from spectranet.engine.options import MEMORY_FORMATS, PRECISIONS
from spectranet.errors import ConfigError

__all__ = ["PRECISIONS", "MEMORY_FORMATS", "Layouts", "autocast", "memory_layouts", "prepared",
           "resolve_precision", "to_input", "weights_in"]

Layouts = dict[int, torch.memory_format]  # tensor rank -> memory format


def autocast(precision: str, device: str | torch.device = "cpu") -> AbstractContextManager[Any]:
    """Autocast context for ``precision`` ("fp32": none; "bf16": bfloat16 mixed precision)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def memory_layouts(memory_format: str, precision: str) -> Layouts:
    """Memory format per tensor rank for ``memory_format`` (validated) under ``precision``."""
    if memory_format not in MEMORY_FORMATS:
        raise ConfigError(f"memory_format must be one of {MEMORY_FORMATS}, got {memory_format!r}")
    if memory_format == "channels_last":
        return {4: torch.channels_last, 5: torch.channels_last_3d}
    if memory_format == "auto" and precision == "bf16":
        return {4: torch.channels_last}
    return {}


@contextmanager
def weights_in(model: nn.Module, layouts: Layouts) -> Iterator[None]:
    """Put the parameters of a rank in ``layouts`` in that memory format; restore on exit.

    Only parameters not already in the format are converted (and restored to contiguous), so
    nested uses are no-ops and a model the caller laid out itself is left alone.
    """
    changed = []
    for p in model.parameters():
        fmt = layouts.get(p.dim())
        if fmt is not None and not p.is_contiguous(memory_format=fmt):
            p.data = p.data.contiguous(memory_format=fmt)
            changed.append(p)
    try:
        yield
    finally:
        for p in changed:
            p.data = p.data.contiguous()


class _Float32Island:
    """Forward hooks running a module outside autocast on float32 inputs."""

    def __init__(self, device_type: str) -> None:
        self.device_type = device_type
        self.saved: list[bool] = []

    def enter(self, module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        self.saved.append(torch.is_autocast_enabled(self.device_type))
        torch.set_autocast_enabled(self.device_type, False)
        return tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args)

    def leave(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        torch.set_autocast_enabled(self.device_type, self.saved.pop())


@contextmanager
def _single_channel_convs_in_fp32(
    model: nn.Module, precision: str, device: torch.device
) -> Iterator[None]:
    """Under CPU bf16 training, run convolutions with one input channel in float32 (module doc)."""
    if precision != "bf16" or device.type != "cpu":
        yield
        return
    island, handles = _Float32Island(device.type), []
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and m.in_channels == 1:
            handles.append(m.register_forward_pre_hook(island.enter))
            handles.append(m.register_forward_hook(island.leave, always_call=True))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


@contextmanager
def prepared(
    model: nn.Module, precision: str, device: torch.device, layouts: Layouts, *, training: bool
) -> Iterator[None]:
    """Weights in ``layouts``; when ``training``, single-channel convolutions in fp32 under bf16."""
    with weights_in(model, layouts), _single_channel_convs_in_fp32(
        model, precision if training else "fp32", device
    ):
        yield


def to_input(x: torch.Tensor, device: torch.device, layouts: Layouts) -> torch.Tensor:
    """``x`` on ``device`` in the memory format ``layouts`` gives its rank."""
    x = x.to(device, non_blocking=True)
    fmt = layouts.get(x.dim())
    return x if fmt is None else x.contiguous(memory_format=fmt)


def resolve_precision(precision: str) -> str:
    """Turn "auto" into "bf16" when the CPU has native bfloat16 support, else "fp32"."""
    if precision != "auto":
        return precision
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # pragma: no cover - older torch
        return "fp32"
    return "bf16" if _cpu_has_bf16() or "AMX" in capability else "fp32"


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
