"""Training throughput (windows/s) of the sound ``standard`` preset against a plain fp32 loop.

Issue 9: the standard recipe's throughput beside the plain loop, and proof that feature
extraction and batching are not its bottleneck. Model: the preset's ``Cov1 + Cov2 + Cov3 +
DilaCov1(2)`` with its full filters (32, 32, 64, 64) and batch norm, batches of 64 real
UrbanSound8K windows (test fold 10: training folds 1 and 2). Candidates, timed interleaved in
one process (``_common.interleaved_rates``), one batch per call:

- ``reference``: a plain fp32 loop (zero_grad, forward, cross-entropy, backward, AdamW step) on
  one fixed, already standardised batch: no data pipeline at all;
- ``ours``: one step of the standard recipe as ``audio train`` runs it: the next batch of the
  round's training loader (one random window per clip, standardisation, time shift and
  masking), then ``train_one_epoch`` with bf16 autocast and mixup 0.2;
- ``batching only``: the next batch of the same loader, no model.

Then, timed once each: feature extraction of ``--clips`` clips with an empty cache and with the
cache filled (windows/s), against the recipe's training windows/s. Last, the floating-point
operations of one training step per window (forward and backward, counted by
``torch.utils.flop_counter``), and what the ``paper`` preset (every window of 9 training folds
of the full UrbanSound8K, 500 epochs) costs at the measured rate.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_standard_recipe.py``
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_threads_option, data_root, interleaved_rates, print_comparison, start

from spectranet.audio.cache import FeatureCache
from spectranet.audio.datasets import load_clips
from spectranet.audio.extraction import extract_features
from spectranet.audio.models import build_model
from spectranet.audio.pipeline import feature_settings, model_options, prepare, round_loaders
from spectranet.audio.protocol import fold_split
from spectranet.config import make_config
from spectranet.engine.optim import make_optimizer
from spectranet.engine.training import seed_everything, train_one_epoch

TEST_FOLD = 10


def endless(loader: Any) -> Iterator[dict[str, torch.Tensor]]:
    """The loader's batches, epoch after epoch."""
    epoch = 0
    while True:
        loader.set_epoch(epoch)
        yield from loader
        epoch += 1


def reference_step(model: nn.Module, batch: dict[str, torch.Tensor]) -> Callable[[], int]:
    """One plain fp32 step on a fixed batch; returns the windows done."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> int:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(batch["x"]), batch["y"])
        loss.backward()
        optimizer.step()
        loss.item()
        return len(batch["y"])

    return step


def recipe_step(model: nn.Module, batches: Iterator[dict[str, torch.Tensor]], config: Any
                ) -> Callable[[], int]:
    """One step of the standard recipe, its batch drawn from the real loader."""
    optimizer = make_optimizer(model.parameters(), name=config.optimizer, lr=config.lr,
                               weight_decay=config.weight_decay)

    def step() -> int:
        batch = next(batches)
        train_one_epoch(model, [batch], optimizer, precision="bf16", mixup=config.mixup)
        return len(batch["y"])

    return step


def batching_step(batches: Iterator[dict[str, torch.Tensor]]) -> Callable[[], int]:
    """Only the next batch of the loader."""
    return lambda: len(next(batches)["y"])


def run(rounds: int, n_clips: int) -> None:
    """Print the throughput lines and the feature-extraction comparison."""
    config = make_config("audio", "standard", folds=[TEST_FOLD], jobs=1)
    clips, windows = prepare(config, root=data_root(), progress=False)
    split = fold_split(clips.folds, TEST_FOLD)
    _, loaders = round_loaders(windows.x, clips, windows, split, config, seed=0)
    n_classes = len(clips.class_names)
    seed_everything(0)
    model = build_model(config.arch, n_classes, **model_options(config))
    fixed = next(iter(loaders["train"]))
    candidates = {
        "reference": reference_step(_copy(model), fixed),
        "ours": recipe_step(_copy(model), endless(loaders["train"]), config),
        "batching only": batching_step(endless(loaders["train"])),
    }
    rates = interleaved_rates(candidates, rounds=rounds, warmup=2, min_seconds=1.0)
    print(f"standard recipe, {config.arch}, filters 32, 32, 64, 64, batch {config.batch_size}, "
          f"{len(loaders['train'])} batches per epoch (test fold {TEST_FOLD})")
    print_comparison("training windows/s: fp32 loop vs standard", rates["reference"],
                     rates["ours"], unit="windows/s")
    print(f"    batching only {rates['batching only']:>10,.0f} windows/s = "
          f"{rates['batching only'] / rates['ours']:.0f}x the recipe's training rate")
    _features(config, n_clips, rates["ours"])
    _paper_cost(model, fixed, rates)


#: Windows of the full UrbanSound8K (8732 clips) with the paper's features: counted by
#: ``spectranet audio features`` on the folds present here (11,998 windows for 2,003 clips),
#: scaled by clips; 9 of 10 folds train in each round.
_WINDOWS_PER_CLIP = 11998 / 2003
_PAPER_TRAIN_WINDOWS = 8732 * 0.9 * _WINDOWS_PER_CLIP


def _paper_cost(model: nn.Module, batch: dict[str, torch.Tensor], rates: dict[str, float]
                ) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    model = _copy(model).train()
    with FlopCounterMode(display=False) as counter:
        nn.functional.cross_entropy(model(batch["x"]), batch["y"]).backward()
    per_window = counter.get_total_flops() / len(batch["y"])
    steps = _PAPER_TRAIN_WINDOWS * 500
    print(f"    one training step: {per_window / 1e9:.2f} GFLOP per window (forward + backward)")
    print(f"    paper preset, one round of the full UrbanSound8K: {steps / 1e6:.1f} M window "
          f"steps = {steps * per_window / 1e15:.1f} PFLOP; at the fp32 loop's rate "
          f"{steps / rates['reference'] / 3600:,.0f} h, at the standard recipe's bf16 rate "
          f"{steps / rates['ours'] / 3600:,.0f} h on this machine")


def _features(config: Any, n_clips: int, train_rate: float) -> None:
    clips = load_clips("urbansound8k", root=data_root())
    subset = dataclasses.replace(clips, records=clips.records[:n_clips])
    settings = feature_settings(config)
    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(Path(tmp))
        for label in ("cold cache", "warm cache"):
            tic = time.perf_counter()
            table = extract_features(subset, settings, cache=cache, jobs=1, progress=False)
            rate = len(table) / (time.perf_counter() - tic)
            print(f"    features, {label}, {n_clips} clips, 1 process: {rate:>10,.0f} windows/s "
                  f"= {rate / train_rate:.1f}x the recipe's training rate")
    print("    (features are extracted once per dataset and cached; every epoch reads them "
          "from memory)")


def _copy(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model)


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--clips", type=int, default=100, help="clips for feature extraction")
    args = parser.parse_args(argv)
    start(args.threads)
    tic = time.perf_counter()
    run(args.rounds, args.clips)
    print(f"done in {time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    main()
