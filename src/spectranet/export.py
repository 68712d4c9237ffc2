"""``spectranet export``: a trained run's model as a file that runs without spectranet.

The file (ONNX, or TorchScript) maps float32 inputs ``(batch, *input_shape)`` to logits
``(batch, K)``. Beside it, ``<file>.json`` (the sidecar) holds what a user needs to feed it:
the input shape and layout, the class names in output order and the preprocessing as plain
numbers -- for a hyperspectral run the PCA and scaling of its reducer and the patch rules, for a
sound run the log-mel + delta settings and the per-band standardisation. See ``docs/export.md``.
"""

from __future__ import annotations

import json
from numbers import Integral
from pathlib import Path
from typing import Any

import torch

from spectranet import __version__
from spectranet.engine.export import (
    EXPORT_FORMATS,
    INPUT_NAME,
    OUTPUT_NAME,
    check_export_path,
    check_format,
    export_model,
)
from spectranet.engine.identity import read_run
from spectranet.engine.runs import atomic_write_bytes, atomic_write_json
from spectranet.errors import ConfigError, DataError

__all__ = ["export_run", "sidecar_path"]

SIDECAR_VERSION = 1


def sidecar_path(model_path: str | Path) -> Path:
    """The sidecar of an exported model: ``model.onnx`` -> ``model.onnx.json``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + ".json")


def export_run(
    run: str | Path,
    out: str | Path | None = None,
    *,
    format: str = "onnx",
    seed: int | None = None,
    force: bool = False,
) -> Path:
    """Export the model of a run folder to ONNX or TorchScript, with a JSON sidecar beside it.

    The run's domain (hyperspectral or sound) comes from its ``config.json``; the model is the
    one ``predict`` uses (the checkpoint with the best validation accuracy). The exported file
    is checked against PyTorch on seeded inputs before anything is written; both files are
    written atomically, the model first.

    Parameters
    ----------
    run : path-like
        A folder written by ``spectranet hsi train`` or ``spectranet audio train``.
    out : path-like, optional
        The model file; default ``<run>/model.onnx`` or ``<run>/model.pt``. The sidecar is
        ``<out>.json`` (:func:`sidecar_path`). An earlier export (the file and its sidecar)
        is replaced; any other existing file only with ``force``.
    format : {"onnx", "torchscript"}, default "onnx"
        ONNX (opset chosen by torch's exporter; run it with ``onnxruntime``) or TorchScript
        (``torch.jit.load``, needs torch but not spectranet).
    seed : int, optional
        Export this training seed's model (of any fold for a sound run) instead of the best.
    force : bool, default False
        Replace ``out`` and its sidecar even when they are not an earlier export's.

    Returns
    -------
    Path
        The model file.

    Raises
    ------
    ConfigError
        Unknown ``format``, invalid ``seed``, ``out`` (or its sidecar) is a folder, or exists
        and is not an earlier export (without ``force``).
    MissingDependencyError
        ``format="onnx"`` without ``onnx``, ``onnxscript`` or ``onnxruntime`` (``pip install
        'spectranet[export]'``).
    DataNotFoundError, DataError
        ``run`` is not a run folder, or holds no checkpoint (for ``seed``).

    Examples
    --------
    >>> export_run("runs/ip", format="onnx")        # runs/ip/model.onnx + model.onnx.json
    >>> export_run("runs/us8k", "us8k.pt", format="torchscript")
    """
    check_format(format)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral)):
        raise ConfigError(f"seed must be an integer or None, got {seed!r}")
    run = Path(run)
    out = Path(out) if out is not None else run / f"model{EXPORT_FORMATS[format]}"
    check_export_path(out, format)
    sidecar = sidecar_path(out)
    if sidecar.is_dir():
        raise ConfigError(f"{sidecar}: is a folder; the export writes its sidecar there")
    if not force and (out.exists() or out.is_symlink() or sidecar.exists()
                      or sidecar.is_symlink()) and not _earlier_export(out):
        raise ConfigError(f"{out}: exists and is not a model spectranet exported (with its "
                          f"sidecar {sidecar.name}); pass --force to replace it, or give "
                          "another --out")
    saved, domain = read_run(run)
    if domain not in _TARGETS:
        raise DataError(f"{run}: an MFCC baseline run has no network to export")
    model, input_shape, fields = _TARGETS[domain](run, seed, saved)
    exported = export_model(model, input_shape, format=format, name=out)
    n_classes = len(fields["class_names"])
    meta: dict[str, Any] = {
        "sidecar_version": SIDECAR_VERSION,
        "format": format,
        "file": out.name,
        "domain": domain,
        "run": str(run.resolve()),
        "spectranet": __version__,
        "torch": torch.__version__,
        "input": {"name": INPUT_NAME if format == "onnx" else "positional argument",
                  "shape": ["batch", *input_shape], "dtype": "float32",
                  "layout": fields.pop("layout")},
        "output": {"name": OUTPUT_NAME if format == "onnx" else "return value",
                   "shape": ["batch", n_classes], "dtype": "float32", "kind": "logits",
                   "note": "unnormalised scores in class_names order; softmax over axis 1 "
                           "gives probabilities, argmax the class"},
        **({"opset": exported.opset} if exported.opset is not None else {}),
        **fields,
        "check": {"max_abs_diff": exported.max_abs_diff,
                  "input": "3 seeded standard-normal samples, compared with PyTorch (float32)"},
    }
    atomic_write_bytes(out, exported.data)
    atomic_write_json(sidecar, meta)
    return out


def _earlier_export(out: Path) -> bool:
    """Whether ``out`` and its sidecar are files an earlier :func:`export_run` wrote."""
    sidecar = sidecar_path(out)
    if out.is_symlink() or sidecar.is_symlink() or not (out.is_file() and sidecar.is_file()):
        return False
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(meta, dict) and meta.get("sidecar_version") is not None
            and meta.get("file") == out.name)


def _hsi(run: Path, seed: int | None,
         saved: dict[str, Any]) -> tuple[torch.nn.Module, tuple[int, ...], dict[str, Any]]:
    from spectranet.hsi.inference import load_run_predictor

    predictor = load_run_predictor(run, seed=seed)
    fields = predictor.export_fields(scene=saved["scene"].get("name"))
    return predictor.model, predictor.input_shape, fields


def _audio(run: Path, seed: int | None,
           saved: dict[str, Any]) -> tuple[torch.nn.Module, tuple[int, ...], dict[str, Any]]:
    from spectranet.audio.inference import load_run_predictor

    predictor = load_run_predictor(run, seed=seed)
    return predictor.model, predictor.input_shape, predictor.export_fields()


_TARGETS = {"hsi": _hsi, "audio": _audio}
