"""A model as a file that runs without spectranet: ONNX or TorchScript, checked before writing.

Domain-neutral: a module and an input shape in, bytes out. ONNX goes through torch's
``torch.export``-based exporter (the default since torch 2.9; it needs ``onnx`` and
``onnxscript``) with a dynamic batch dimension; TorchScript through :func:`torch.jit.trace`,
whose graph holds no batch size either. Either file is run once on a seeded input before it is
returned (ONNX with ``onnxruntime``, TorchScript with :func:`torch.jit.load`) and compared with
the PyTorch module, so a file that disagrees is never written.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from spectranet.errors import ConfigError, SpectranetError

__all__ = [
    "EXPORT_FORMATS",
    "Exported",
    "MissingDependencyError",
    "check_export_path",
    "check_format",
    "export_model",
]

#: Format name -> default file suffix.
EXPORT_FORMATS: dict[str, str] = {"onnx": ".onnx", "torchscript": ".pt"}
#: Python packages each format needs beyond torch (exporter and the runtime of the check).
_NEEDS: dict[str, tuple[str, ...]] = {"onnx": ("onnx", "onnxscript", "onnxruntime"),
                                      "torchscript": ()}
INPUT_NAME, OUTPUT_NAME = "input", "logits"
# The check's tolerance on logits, relative to their largest magnitude: float32 kernels of two
# runtimes sum in different orders (observed differences ~1e-7 of the logits' scale); a wrong
# weight or layout moves logits by orders of magnitude more.
_RTOL = 1e-4


class MissingDependencyError(SpectranetError, ImportError):
    """An optional package that the requested feature needs is not installed."""


@dataclass(frozen=True)
class Exported:
    """A serialised model and what its check found.

    Attributes
    ----------
    data : bytes
        The file's content.
    max_abs_diff : float
        Largest absolute difference between the file's and PyTorch's logits on the check input.
    opset : int or None
        ONNX opset of the default domain (None for TorchScript).
    """

    data: bytes
    max_abs_diff: float
    opset: int | None = None


def check_format(format: str) -> str:
    """Return ``format`` if it is one of :data:`EXPORT_FORMATS`, else raise ConfigError."""
    if format not in EXPORT_FORMATS:
        raise ConfigError(f"format must be one of {sorted(EXPORT_FORMATS)}, got {format!r}")
    return format


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a module blanked in sys.modules
        return False


def check_export_path(path: str | Path, format: str) -> Path:
    """Validate an output file path and the packages ``format`` needs; nothing is created.

    Raises
    ------
    ConfigError
        ``path`` is an existing folder.
    MissingDependencyError
        A package ``format`` needs is not installed (the message gives the pip command).
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; the export needs a file path")
    _check_installed(check_format(format), path)
    return path


def _check_installed(format: str, name: str | Path) -> None:
    if format == "onnx" and torch.__version__ < "2.5":  # dynamo=True and dynamic_shapes
        raise MissingDependencyError(f"{name}: the onnx export needs torch >= 2.5, "
                                     f"got {torch.__version__}")
    missing = [package for package in _NEEDS[format] if not _installed(package)]
    if missing:
        raise MissingDependencyError(
            f"{name}: the {format} export needs {', '.join(missing)}, not installed; "
            "pip install 'spectranet[export]'"
        )


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' notices about their own internals (not about the model)."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)  # "torchvision is not installed. Skipping ..."
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*LeafSpec", category=FutureWarning)
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
            # shape checks in forward() become constants of the trace; the check below and the
            # fixed input shape of the file make that harmless
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            yield
    finally:
        registration.setLevel(level)


def _to_onnx(model: nn.Module, example: torch.Tensor) -> tuple[bytes, int]:
    batch = torch.export.Dim("batch")
    program = torch.onnx.export(model, (example,), dynamo=True, external_data=False,
                                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                dynamic_shapes=({0: batch},), verbose=False)
    proto = program.model_proto
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    return proto.SerializeToString(), opset


def _to_torchscript(model: nn.Module, example: torch.Tensor) -> bytes:
    traced = torch.jit.trace(model, (example,))
    buf = io.BytesIO()
    torch.jit.save(traced, buf)
    return buf.getvalue()


def _run_onnx(data: bytes, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]


def _run_torchscript(data: bytes, x: np.ndarray) -> np.ndarray:
    with _quiet():
        loaded = torch.jit.load(io.BytesIO(data), map_location="cpu")
    with torch.no_grad():
        return loaded(torch.from_numpy(x)).numpy()


def export_model(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    format: str = "onnx",
    name: str | Path = "<model>",
    seed: int = 0,
) -> Exported:
    """Serialise ``model`` (CPU, eval mode) for inputs ``(batch, *input_shape)``, then check it.

    Parameters
    ----------
    model : torch.nn.Module
        Maps float32 ``(batch, *input_shape)`` to logits ``(batch, K)``; put in eval mode.
    input_shape : sequence of int > 0
        One sample's shape, without the batch dimension.
    format : {"onnx", "torchscript"}, default "onnx"
        ONNX input ``"input"``, output ``"logits"``, both with a dynamic first dimension.
    name : str or path, default "<model>"
        Named in error messages (the file the caller will write).
    seed : int, default 0
        Seeds the standard-normal inputs of the export (batch 2) and of the check (batch 3, so
        the batch dimension is seen to vary).

    Returns
    -------
    Exported
        The bytes to write, the check's largest logit difference and the ONNX opset.

    Raises
    ------
    ConfigError
        Unknown ``format`` or an invalid ``input_shape``.
    MissingDependencyError
        ``format="onnx"`` without ``onnx``, ``onnxscript`` or ``onnxruntime``.
    SpectranetError
        The file's logits differ from PyTorch's by more than 1e-4 of their magnitude.
    """
    check_format(format)
    shape = tuple(input_shape)
    if not shape or any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in shape):
        raise ConfigError(f"input_shape must be positive integers, got {input_shape!r}")
    _check_installed(format, name)
    model = model.cpu().eval()
    gen = torch.Generator().manual_seed(seed)
    example = torch.randn((2, *shape), generator=gen)
    check = torch.randn((3, *shape), generator=gen)
    with _quiet(), torch.no_grad():
        if format == "onnx":
            data, opset = _to_onnx(model, example)
            got = _run_onnx(data, check.numpy())
        else:
            data, opset = _to_torchscript(model, example), None
            got = _run_torchscript(data, check.numpy())
        want = model(check).numpy()
    return Exported(data=data, max_abs_diff=_difference(got, want, name), opset=opset)


def _difference(got: np.ndarray, want: np.ndarray, name: str | Path) -> float:
    """The largest difference of the exported model's logits from PyTorch's; raise if too big."""
    if got.shape != want.shape:
        raise SpectranetError(f"{name}: the exported model returns shape {got.shape}, "
                              f"PyTorch {want.shape}")
    diff = float(np.abs(got - want).max())
    if not diff <= _RTOL * max(1.0, float(np.abs(want).max())):
        raise SpectranetError(f"{name}: the exported model's logits differ from PyTorch's by "
                              f"{diff:.3g} on the check input")
    return diff
