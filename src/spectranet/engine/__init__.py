"""The shared engine: training loop, metrics, run folders, figures; knows tensors, not domains."""

import importlib
from typing import Any

#: Public name -> the module that defines it; imported on first use (PEP 562), so that
#: ``spectranet.engine.options`` and friends load without torch.
_EXPORTS = {
    "load_checkpoint": "spectranet.engine.checkpoints",
    "FitResult": "spectranet.engine.training",
    "RunDir": "spectranet.engine.runs",
    "atomic_write_json": "spectranet.engine.runs",
    "atomic_write_text": "spectranet.engine.runs",
    "classification_metrics": "spectranet.engine.metrics",
    "evaluate": "spectranet.engine.scoring",
    "fit": "spectranet.engine.training",
    "init_from_env": "spectranet.engine.distributed",
    "is_distributed": "spectranet.engine.distributed",
    "is_main_process": "spectranet.engine.distributed",
    "make_optimizer": "spectranet.engine.optim",
    "mean_std": "spectranet.engine.metrics",
    "predict_proba": "spectranet.engine.scoring",
    "rank": "spectranet.engine.distributed",
    "save_npy": "spectranet.engine.runs",
    "seed_everything": "spectranet.engine.training",
    "world_size": "spectranet.engine.distributed",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'spectranet.engine' has no attribute {name!r}")


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
