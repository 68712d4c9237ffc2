"""Training throughput (samples/s): plain fp32 PyTorch loop vs the engine's bf16 path.

Models (issue 5, benchmark 3):

- the dilated sound CNN ``Cov1 + Cov2 + Cov3 + DilaCov1(2)`` (Chen et al. 2019) on
  (N, 2, 64, 41) log-mel windows, batches of 32 and 64, 10 classes;
- the fast 3D CNN (Ahmad 2020) on (N, 1, 20, 11, 11) patches, batches of 256, 16 classes.

Candidates, timed interleaved in one process (``_common.interleaved_rates``), one training step
per call, identical weights and random batches:

- ``reference``: a plain fp32 loop (zero_grad, forward, cross-entropy, backward, Adam step);
- ``plain bf16``: the same loop under ``torch.autocast("cpu", bfloat16)``, nothing else;
- ``engine bf16 contiguous`` / ``engine bf16 channels_last``: ``train_one_epoch`` with
  ``memory_format`` forced;
- ``ours``: ``train_one_epoch(..., precision="bf16")`` with its defaults (memory_format "auto":
  channels-last for 4-D tensors; one-input-channel convolutions kept in fp32).

Then, unless ``--skip-accuracy``: the fast 3D CNN trained on Indian Pines (paper split, PCA 20,
11 x 11 patches) in fp32 and in bf16 with the same seeds, test overall accuracy of each, so the
bf16 gap can be compared with the seed-to-seed spread.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_training_throughput.py``
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_threads_option, data_root, interleaved_rates, print_comparison, start

from spectranet.audio.models import from_spec
from spectranet.engine.optim import make_optimizer
from spectranet.engine.scoring import predict_proba
from spectranet.engine.training import fit, seed_everything, train_one_epoch
from spectranet.hsi.models import Fast3DCNN

SOUND_SPEC = "Cov1 + Cov2 + Cov3 + DilaCov1(2)"
Batch = dict[str, torch.Tensor]


def _random_batch(shape: tuple[int, ...], n_classes: int, seed: int) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(shape, generator=g),
        "y": torch.randint(0, n_classes, (shape[0],), generator=g),
        "id": torch.arange(shape[0]),
    }


def plain_step(model: nn.Module, batch: Batch, *, bf16: bool) -> Callable[[], int]:
    """One step of the reference loop (fp32, or bare bf16 autocast); returns samples done."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = batch["x"], batch["y"]

    def step() -> int:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x).float(), y)
        loss.backward()
        optimizer.step()
        loss.item()
        return len(y)

    return step


def engine_step(model: nn.Module, batch: Batch, **kwargs: str) -> Callable[[], int]:
    """One step through ``train_one_epoch`` (a loader of one batch) with ``kwargs``."""
    optimizer = make_optimizer(model.parameters(), name="adam", lr=1e-3)

    def step() -> int:
        train_one_epoch(model, [batch], optimizer, **kwargs)
        return len(batch["y"])

    return step


def throughput_case(
    title: str, model: nn.Module, shape: tuple[int, ...], n_classes: int, *, rounds: int,
    target: float,
) -> dict[str, float]:
    """Time every candidate on one model and batch shape; print the table rows; return rates."""
    batch = _random_batch(shape, n_classes, seed=0)
    model(batch["x"][:2])  # materialise lazy shapes before copying

    def fresh() -> nn.Module:
        return copy.deepcopy(model)

    candidates = {
        "reference": plain_step(fresh(), batch, bf16=False),
        "plain bf16": plain_step(fresh(), batch, bf16=True),
        "engine bf16 contiguous": engine_step(fresh(), batch, precision="bf16",
                                              memory_format="contiguous"),
        "engine bf16 channels_last": engine_step(fresh(), batch, precision="bf16",
                                                 memory_format="channels_last"),
        "ours": engine_step(fresh(), batch, precision="bf16"),
    }
    rates = interleaved_rates(candidates, rounds=rounds, warmup=2)
    ref = rates["reference"]
    for name, rate in rates.items():
        if name not in ("reference", "ours"):
            print(f"    {name:<40} {rate:>10,.0f} samples/s  ratio {rate / ref:5.2f}x")
    print_comparison(title, ref, rates["ours"], target=target)
    return rates


def run_throughput(rounds: int) -> None:
    """The three throughput cases of the issue."""
    seed_everything(0)
    sound = from_spec(SOUND_SPEC, 10)
    for bs in (32, 64):
        throughput_case(f"dilated sound CNN, batch {bs}", sound, (bs, 2, 64, 41), 10,
                        rounds=rounds, target=3.0)
    seed_everything(0)
    throughput_case("fast 3D CNN 11x11x20, batch 256", Fast3DCNN(20, 11, 16),
                    (256, 1, 20, 11, 11), 16, rounds=rounds, target=1.5)


def _indian_pines(window: int, seed: int) -> tuple[object, object, np.ndarray, int]:
    """(patch dataset, split, flat labels, n_classes) of Indian Pines, paper protocol."""
    from spectranet.hsi.datasets import load_scene
    from spectranet.hsi.patches import PatchDataset
    from spectranet.hsi.reduce import SpectralReducer
    from spectranet.hsi.splits import random_split

    scene = load_scene("indian_pines", root=data_root())
    split = random_split(scene.labels, test_size=0.3, val_fraction=0.5, seed=seed)
    reduced = SpectralReducer(20).fit(scene.cube).transform(scene.cube)
    patches = PatchDataset(reduced, scene.labels, split.train, window=window)
    return patches, split, scene.labels.ravel(), len(scene.class_names)


def train_and_test(precision: str, seed: int, epochs: int) -> tuple[float, float]:
    """Train the fast 3D CNN on Indian Pines with ``precision``; (test OA, seconds)."""
    from spectranet.hsi.patches import PatchBatches

    patches, split, labels, n_classes = _indian_pines(11, seed)
    seed_everything(seed)
    model = Fast3DCNN(20, 11, n_classes)
    optimizer = make_optimizer(model.parameters(), name="adam", lr=1e-3)
    train = PatchBatches(patches.subset(split.train), 256, shuffle=True, seed=seed)
    val = PatchBatches(patches.subset(split.val), 1024)
    result = fit(model, train, val, optimizer=optimizer, epochs=epochs, precision=precision,
                 progress=False)
    probs, ids = predict_proba(model, PatchBatches(patches.subset(split.test), 1024),
                               precision=precision)
    return float((probs.argmax(1) == labels[ids]).mean()), result.train_seconds


def run_accuracy(seeds: list[int], epochs: int) -> None:
    """fp32 vs bf16 test accuracy of the fast 3D CNN on Indian Pines, per seed."""
    print(f"\nIndian Pines, fast 3D CNN 11x11, paper split, {epochs} epochs, Adam 1e-3, batch 256")
    acc: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for seed in seeds:
        for precision in ("fp32", "bf16"):
            oa, seconds = train_and_test(precision, seed, epochs)
            acc[precision].append(oa)
            print(f"  seed {seed} {precision}: test OA {oa:.4f}  (train {seconds:.0f} s)")
    for precision, values in acc.items():
        print(f"  {precision}: mean test OA {np.mean(values):.4f} +- {np.std(values):.4f} "
              f"over seeds {seeds}")
    gap = np.abs(np.array(acc["fp32"]) - np.array(acc["bf16"]))
    print(f"  |fp32 - bf16| per seed: {', '.join(f'{g:.4f}' for g in gap)}; "
          f"seed spread (max - min) fp32 {np.ptp(acc['fp32']):.4f}, bf16 {np.ptp(acc['bf16']):.4f}")


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved timing rounds")
    parser.add_argument("--epochs", type=int, default=8, help="epochs of the accuracy check")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(argv)
    start(args.threads)
    tic = time.perf_counter()
    if not args.skip_throughput:
        run_throughput(args.rounds)
    if not args.skip_accuracy:
        run_accuracy(args.seeds, args.epochs)
    print(f"done in {time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    main()
