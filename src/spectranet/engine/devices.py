"""One GPU per worker: which of the visible GPUs each of a pool's workers trains on.

A process pool whose runs all say ``device="cuda"`` would otherwise stack every run on the first
GPU. :func:`assign_gpus` hands the workers the visible GPUs round robin (pure, so that it can be
tested on a fake device list); each worker then calls :func:`use_gpu` before touching CUDA, which
narrows ``CUDA_VISIBLE_DEVICES`` to its own GPU, so that ``"cuda"`` (and ``"cuda:0"``) inside the
worker is that GPU.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from spectranet.errors import ConfigError

__all__ = ["assign_gpus", "run_device", "use_gpu", "visible_gpus"]


def run_device(config: Any) -> str:
    """The device a run's configuration trains on (``"cpu"`` when it names none).

    ``config`` is a configuration dataclass with a ``device`` field, or a mapping (custom grids).
    """
    if isinstance(config, Mapping):
        return str(config.get("device", "cpu"))
    return str(getattr(config, "device", "cpu"))


def visible_gpus() -> list[str]:
    """The GPUs this process sees, as ``CUDA_VISIBLE_DEVICES`` names them (empty without CUDA).

    With ``CUDA_VISIBLE_DEVICES`` set, its entries (indices or UUIDs) as torch counts them;
    else ``"0"``, ``"1"``, ... up to ``torch.cuda.device_count()``.
    """
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        names = [name.strip() for name in listed.split(",") if name.strip()]
        return names[:count]
    return [str(i) for i in range(count)]


def assign_gpus(jobs: int, gpus: Sequence[str], *, share: bool = False,
                device: str = "cuda") -> list[str]:
    """The GPU each of ``jobs`` workers trains on: ``gpus`` round robin.

    Parameters
    ----------
    jobs : int >= 1
        Workers of the pool (runs trained at once).
    gpus : sequence of str
        The visible GPUs, as ``CUDA_VISIBLE_DEVICES`` names them (see :func:`visible_gpus`).
    share : bool, default False
        Allow more workers than GPUs (several runs on one GPU at once). Without it, more jobs
        than GPUs is refused.
    device : str, default "cuda"
        The runs' device, only for messages.

    Returns
    -------
    list of str, length ``jobs``
        Worker ``i``'s GPU: ``gpus[i % len(gpus)]``.

    Raises
    ------
    ConfigError
        ``jobs`` not an integer >= 1, no GPU, or more jobs than GPUs without ``share``.

    Examples
    --------
    >>> assign_gpus(2, ["0", "1", "2"])
    ['0', '1']
    >>> assign_gpus(3, ["0", "1"], share=True)
    ['0', '1', '0']
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
    gpus = list(gpus)
    if not gpus:
        raise ConfigError(f"device {device!r} is not available: no CUDA GPU is visible here; "
                          "use --device cpu")
    if jobs > len(gpus) and not share:
        raise ConfigError(f"--jobs {jobs} with --device {device} needs {jobs} GPUs (one per run), "
                          f"{len(gpus)} visible; use --jobs {len(gpus)}, or --share-gpus to "
                          "train several runs on one GPU")
    return [gpus[i % len(gpus)] for i in range(jobs)]


def use_gpu(gpu: str) -> None:
    """Make ``gpu`` the only GPU this process sees; call it before anything touches CUDA.

    Raises
    ------
    RuntimeError
        CUDA is already initialised in this process (the narrowing would have no effect).
    """
    import torch

    if torch.cuda.is_initialized():
        raise RuntimeError("use_gpu must run before CUDA is initialised in this process")
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
