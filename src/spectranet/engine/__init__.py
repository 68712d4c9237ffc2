"""The shared engine: training loop, metrics, run folders, figures; knows tensors, not domains."""

from spectranet.engine.checkpoints import load_checkpoint
from spectranet.engine.distributed import (
    init_from_env,
    is_distributed,
    is_main_process,
    rank,
    world_size,
)
from spectranet.engine.metrics import classification_metrics, mean_std
from spectranet.engine.optim import make_optimizer
from spectranet.engine.runs import RunDir, atomic_write_json, atomic_write_text, save_npy
from spectranet.engine.scoring import evaluate, predict_proba
from spectranet.engine.training import FitResult, fit, seed_everything

__all__ = [
    "FitResult",
    "RunDir",
    "atomic_write_json",
    "atomic_write_text",
    "classification_metrics",
    "evaluate",
    "fit",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "load_checkpoint",
    "make_optimizer",
    "mean_std",
    "predict_proba",
    "rank",
    "save_npy",
    "seed_everything",
    "world_size",
]
