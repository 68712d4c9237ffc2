"""The engine's option names: what its optimisers, schedules, losses and precisions are called.

The configuration, the command line and the estimators offer exactly these; the engine owns
them. This module imports nothing heavy, so ``spectranet --help`` stays instant.
"""

__all__ = ["OPTIMIZERS", "SCHEDULERS", "CLASS_WEIGHTS", "PRECISIONS", "PRECISION_CHOICES",
           "MEMORY_FORMATS"]

#: :func:`spectranet.engine.optim.make_optimizer` names.
OPTIMIZERS = ("adam", "adamw", "sgd")
#: :func:`spectranet.engine.optim.make_scheduler` names.
SCHEDULERS = ("none", "cosine", "onecycle")
#: :func:`spectranet.engine.optim.make_loss` class weightings.
CLASS_WEIGHTS = ("none", "balanced")
#: Precisions of the training and inference loops.
PRECISIONS = ("fp32", "bf16")
#: What a user may ask for: a precision, or "auto" (bf16 where the CPU supports it natively).
PRECISION_CHOICES = ("auto", *PRECISIONS)
#: "auto": channels-last for 4-D tensors under bf16 only; "channels_last": 4-D and 5-D tensors.
MEMORY_FORMATS = ("auto", "contiguous", "channels_last")
