"""What the `standard` preset's spectral SVM costs next to its CNN, on Indian Pines (145 x 145).

The preset mixes a spectral SVM into the CNN's probabilities (``svm_weight = 0.5``,
:class:`spectranet.hsi.spectral_svm.SVMMix`). Its cost is measured against the CNN's own work,
interleaved in one process, on seed 0's disjoint split:

- fitting: ``reference`` = one training epoch of the preset's CNN on the split's training
  pixels (batches of 256, flips, bf16 as the preset resolves it); ``ours`` = fitting the SVM
  on the same pixels, with its probability calibration;
- the full-scene map: ``reference`` = ``predict_map`` of the CNN (every pixel's probabilities);
  ``ours`` = the same, then the SVM's probabilities and the mix.

The CNN's weights are the untrained start (speed does not depend on them). The fitting line
gives the SVM's cost in CNN epochs; the preset trains 50.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_svm_mix.py``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_threads_option, data_root, interleaved_rates, print_comparison, start

from spectranet.config import make_config
from spectranet.engine.precision import resolve_precision
from spectranet.engine.training import seed_everything, train_one_epoch
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.maps import predict_map
from spectranet.hsi.models import build_model
from spectranet.hsi.patches import PatchBatches, PatchDataset
from spectranet.hsi.pipeline import make_split
from spectranet.hsi.recipe import (
    fit_options,
    make_reducer,
    model_kwargs,
    resolve_components,
    start_model,
    training_transforms,
)
from spectranet.hsi.spectral_svm import SVMMix


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    args = parser.parse_args(argv)
    start(args.threads)
    scene = load_scene("indian_pines", root=data_root())
    config = make_config("hsi", "standard", scene="indian_pines", protocol="disjoint")
    config = resolve_components(config, scene.n_bands, "indian_pines")
    split = make_split(scene.labels, config, 0)
    reducer = make_reducer(config)
    mask = np.zeros(scene.labels.size, dtype=bool)
    mask[split.train] = True  # leakage-free: the reducer sees training pixels only
    reduced = reducer.fit(scene.cube, mask=mask.reshape(scene.labels.shape)).transform(scene.cube)
    seed_everything(0)
    model = build_model(config.model, **model_kwargs(config, scene.n_classes))
    start_model(config, model, reduced, split.train)
    precision = resolve_precision(config.precision)
    batches = PatchBatches(PatchDataset(reduced, scene.labels, split.train, window=config.window),
                           config.batch_size, shuffle=True, seed=0,
                           transforms=training_transforms(config))
    options = fit_options(config, model, scene.labels.ravel()[split.train], scene.n_classes,
                          batches_per_epoch=len(batches))
    svm = SVMMix.fit(scene.cube, scene.labels, split.train, weight=config.svm_weight)
    h, w = scene.labels.shape

    def cnn_epoch() -> int:
        train_one_epoch(model, batches, options["optimizer"], precision=precision,
                        loss_fn=options["loss_fn"])
        return 1

    def svm_fit() -> int:
        SVMMix.fit(scene.cube, scene.labels, split.train, weight=config.svm_weight)
        return 1

    def cnn_map() -> tuple[object, object]:
        return predict_map(model, reduced, window=config.window, precision=precision,
                           progress=False, return_proba=True)

    def cnn_map_pixels() -> int:
        cnn_map()
        return h * w

    def mixed_map_pixels() -> int:
        _, proba = cnn_map()
        svm.mix_map(proba, scene.cube).argmax(-1)
        return h * w

    tic = time.perf_counter()
    rates = interleaved_rates({"cnn epoch": cnn_epoch, "svm fit": svm_fit,
                               "cnn map": cnn_map_pixels, "mixed map": mixed_map_pixels},
                              rounds=args.rounds, warmup=1)
    print(f"Indian Pines {h}x{w}, standard preset, disjoint seed 0: {len(split.train):,} "
          f"training pixels, precision {precision}, {args.rounds} rounds in "
          f"{time.perf_counter() - tic:.0f} s")
    epoch, fit = 1 / rates["cnn epoch"], 1 / rates["svm fit"]
    print(f"fitting: one CNN epoch (reference) {epoch:.2f} s, the SVM with calibration (ours) "
          f"{fit:.2f} s: the SVM costs {fit / epoch:.2f} CNN epochs (the preset trains "
          f"{config.epochs})")
    print_comparison("full-scene map: CNN + SVM mix vs CNN alone", rates["cnn map"],
                     rates["mixed map"], unit="pixels/s")


if __name__ == "__main__":
    main()
