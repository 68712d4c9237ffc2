"""The shared engine: training loop, metrics, run folders and figures. Knows tensors, not domains."""

from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.engine.runs import RunDir, atomic_write_json, atomic_write_text, save_npy
from spectranet.engine.training import (
    FitResult,
    evaluate,
    fit,
    load_checkpoint,
    make_optimizer,
    predict_proba,
    seed_everything,
)

__all__ = [
    "FitResult",
    "RunDir",
    "atomic_write_json",
    "atomic_write_text",
    "classification_metrics",
    "evaluate",
    "fit",
    "load_checkpoint",
    "make_optimizer",
    "mean_std",
    "predict_proba",
    "save_npy",
    "seed_everything",
]
