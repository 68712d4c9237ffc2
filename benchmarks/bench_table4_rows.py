"""Cost of the two Table 4 rows added for issue 23: one fold each, to budget the standard grid.

Times, on one test fold of UrbanSound8K (default 1: validation fold 10, training folds 2 and 3,
as ``experiment chen2019 table4`` runs it), with ``--threads`` torch / BLAS threads (default 1):

- ``ufl`` (unsupervised feature learning + random forest, :mod:`spectranet.audio.ufl_baseline`):
  the 40-band log-mel spectrograms of every clip (once per grid run), then one fold: whitening
  and dictionary learnt on the training clips, every clip encoded, the forest fitted, validation
  and test scored;
- ``piczak_long`` (Piczak's CNN, 101-frame windows, 75 % overlap, vote): feature extraction
  into an empty cache (once per grid run), then ``--epochs`` epochs of the grid's ``standard``
  configuration (one random window per clip per epoch, validation fold scored every epoch).

It prints the measured seconds and the projection to the grid's 4 test folds x 50 epochs.
Timings only: no accuracy is printed (the test folds are not looked at here).

Run: ``SPECTRANET_DATA=../shared/data OMP_NUM_THREADS=1 .venv/bin/python
benchmarks/bench_table4_rows.py --epochs 2``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_threads_option, start

from spectranet.audio import pipeline
from spectranet.audio.datasets import load_clips
from spectranet.audio.ufl_baseline import clip_log_mels, ufl_baseline
from spectranet.engine.runs import read_json
from spectranet.experiments import chen2019


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--skip-cnn", action="store_true", help="Time the ufl row only.")
    add_threads_option(parser)
    args = parser.parse_args()
    start(args.threads)
    clips = load_clips("urbansound8k")
    print(f"UrbanSound8K: {len(clips)} clips, folds {clips.folds_present}; test fold "
          f"{args.fold}")

    tic = time.perf_counter()
    specs = clip_log_mels(clips)
    mel_s = time.perf_counter() - tic
    result = ufl_baseline(clips, specs, test_fold=args.fold)
    print(f"ufl: log-mel spectrograms of all clips {mel_s:.1f} s (once); one fold "
          f"{result['train_seconds']:.1f} s ({result['train_clips']} training clips, "
          f"{result['n_patches_fit']} patches learnt); 4 folds ~ "
          f"{(mel_s + 4 * result['train_seconds']) / 60:.1f} min")
    if args.skip_cnn:
        return

    runs, _ = chen2019.build_runs("table4", "standard")
    grid_config = next(r.config for r in runs if r.name == "piczak_long")
    config = dataclasses.replace(grid_config, folds=[args.fold], epochs=args.epochs, jobs=1)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SPECTRANET_CACHE"] = str(Path(tmp) / "cache")
        tic = time.perf_counter()
        summary = pipeline.features(config, progress=False)
        extract_s = time.perf_counter() - tic
        tic = time.perf_counter()
        metrics = pipeline.train(config, Path(tmp) / "run", progress=False)
        total_s = time.perf_counter() - tic
        history = read_json(Path(tmp) / "run" / f"fold_{args.fold}" / "seed_0" /
                            "metrics.json")["history"]
    per_epoch = sum(h["seconds"] for h in history) / len(history)
    print(f"piczak_long: features ({summary['windows']} windows of 2 x 64 x 101) "
          f"{extract_s:.1f} s into an empty cache (once); {args.epochs} epochs "
          f"{metrics['train_seconds']:.1f} s, {per_epoch:.1f} s per epoch (training + "
          f"validation), round with test scoring {total_s:.1f} s; 4 folds x "
          f"{grid_config.epochs} epochs ~ {4 * grid_config.epochs * per_epoch / 60:.0f} min")


if __name__ == "__main__":
    main()
