"""Scaling: time and peak memory vs scene size, window size and number of clips.

Issue 5, benchmark 5: a small table from which a user can predict the cost of a bigger job.
Every case runs in a **fresh subprocess** (peak = ``VmHWM`` of ``/proc/self/status``), 1 thread,
the precision the pipelines choose on this machine (``resolve_precision("auto")``).

Hyperspectral (Fast3DCNN, Indian Pines reduced to 20 PCA components, tiled to 1x, 2x and 4x its
area): for each window in ``--windows`` and each scene, the subprocess builds the
:class:`~spectranet.hsi.patches.PatchDataset` over the whole scene, then times ``--batches``
training batches of 256 (``train_one_epoch``) and ``--batches`` map batches of 1024
(``predict_proba`` over :class:`~spectranet.hsi.patches.PatchBatches`, what ``predict_map``
runs), each after one untimed warm-up batch. **Subsampled**: the epoch time (every labelled
pixel once) and the full-map time (every pixel) are extrapolated from those rates; the peak is
the measured one (a full pass only adds its (pixels, classes) float32 outputs, a few MB).

Sound (``extract_features``, ``--jobs`` processes, real UrbanSound8K clips): for each count in
``--clips``, a cold call (empty temporary cache) and a warm call (same cache), timed in full.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_scaling.py``
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BANDS, TRAIN_BATCH, MAP_BATCH = 20, 256, 1024
SCENES = {"1x": (145, 145), "2x": (290, 145), "4x": (290, 290)}


def _peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not in /proc/self/status")


def hsi_child(args: argparse.Namespace) -> dict:
    """One (window, scene) case: rates and peak memory."""
    import torch

    from spectranet.engine.precision import resolve_precision
    from spectranet.engine.scoring import predict_proba
    from spectranet.engine.training import seed_everything, train_one_epoch
    from spectranet.hsi.models import Fast3DCNN
    from spectranet.hsi.patches import PatchBatches, PatchDataset

    torch.set_num_threads(1)
    data = np.load(args.data)
    h, w = SCENES[args.scene]
    reps = (math.ceil(h / 145), math.ceil(w / 145))
    cube = np.ascontiguousarray(np.tile(data["cube"], (*reps, 1))[:h, :w])
    labels = np.ascontiguousarray(np.tile(data["labels"], reps)[:h, :w])
    precision = resolve_precision("auto")
    seed_everything(0)
    model = Fast3DCNN(BANDS, args.window, int(labels.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    scene = PatchDataset(cube, labels, None, window=args.window)  # every labelled pixel
    rng = np.random.default_rng(0)

    def train_rate(n_batches: int) -> float:
        pos = rng.choice(len(scene), n_batches * TRAIN_BATCH, replace=False)
        loader = PatchBatches(scene.subset(scene.pixels[pos]), TRAIN_BATCH)
        tic = time.perf_counter()
        train_one_epoch(model, loader, opt, precision=precision)
        return n_batches * TRAIN_BATCH / (time.perf_counter() - tic)

    every = scene.subset(np.arange(h * w))

    def map_rate(n_batches: int, start: int) -> float:
        loader = PatchBatches(every.subset(np.arange(start, start + n_batches * MAP_BATCH)),
                              MAP_BATCH)
        tic = time.perf_counter()
        predict_proba(model, loader, precision=precision)
        return n_batches * MAP_BATCH / (time.perf_counter() - tic)

    train_rate(1)  # warm-up (oneDNN primitives, allocator)
    t_rate = train_rate(args.batches)
    map_rate(1, 0)
    m_rate = map_rate(args.batches, MAP_BATCH)
    n_labelled = len(scene)
    return {"window": args.window, "scene": args.scene, "pixels": h * w,
            "labelled": n_labelled, "precision": precision,
            "train_per_s": t_rate, "map_per_s": m_rate,
            "epoch_s": n_labelled / t_rate, "map_s": h * w / m_rate, "peak_mb": _peak_mb()}


def audio_child(args: argparse.Namespace) -> dict:
    """One clip count: cold and warm extraction time and peak memory."""
    from spectranet.audio.datasets import load_clips
    from spectranet.audio.extraction import extract_features

    records = list(load_clips("urbansound8k").records[: args.n_clips])
    with tempfile.TemporaryDirectory() as cache:
        tic = time.perf_counter()
        table = extract_features(records, cache=cache, jobs=args.jobs, progress=False)
        cold = time.perf_counter() - tic
        tic = time.perf_counter()
        extract_features(records, cache=cache, jobs=args.jobs, progress=False)
        warm = time.perf_counter() - tic
    return {"clips": len(records), "windows": len(table), "cold_s": cold, "warm_s": warm,
            "array_mb": table.x.nbytes / 2**20, "peak_mb": _peak_mb()}


def _run(extra: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *extra], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("hsi", "audio"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--scene", choices=tuple(SCENES), help=argparse.SUPPRESS)
    parser.add_argument("--window", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--n-clips", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--windows", default="11,15,19,25",
                        help="patch sides (default 11,15,19,25)")
    parser.add_argument("--scenes", default="1x,2x,4x", help="tilings of Indian Pines")
    parser.add_argument("--batches", type=int, default=2,
                        help="timed training and map batches per case (default 2)")
    parser.add_argument("--clips", default="50,100,200,400", help="clip counts (sound)")
    parser.add_argument("--jobs", type=int, default=2, help="feature extraction processes")
    args = parser.parse_args(argv)
    if args.child == "hsi":
        print(json.dumps(hsi_child(args)))
        return
    if args.child == "audio":
        print(json.dumps(audio_child(args)))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import data_root, machine_summary

    from spectranet.hsi.datasets import load_scene
    from spectranet.hsi.reduce import SpectralReducer

    print(machine_summary())
    root = data_root()
    scene = load_scene("indian_pines", root=root)
    reduced = SpectralReducer(BANDS).fit(scene.cube).transform(scene.cube).astype(np.float32)
    tic = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "indian_pines_pca20.npz"
        np.savez(data, cube=reduced, labels=scene.labels)
        rows = [_run(["--child", "hsi", "--data", str(data), "--scene", s, "--window", w,
                      "--batches", str(args.batches)])
                for w in args.windows.split(",") for s in args.scenes.split(",")]
    print(f"\nFast3DCNN, {BANDS} PCA bands, {rows[0]['precision']}, 1 thread; epoch = every "
          f"labelled pixel once (batch {TRAIN_BATCH}), map = every pixel (batch {MAP_BATCH}); "
          f"times extrapolated from {args.batches} timed batches each")
    print(f"{'window':>6} {'scene':>6} {'pixels':>8} {'labelled':>9} {'train/s':>8} "
          f"{'epoch s':>8} {'map px/s':>9} {'map s':>7} {'peak MB':>8}")
    for r in rows:
        print(f"{r['window']:>6} {r['scene']:>6} {r['pixels']:>8,} {r['labelled']:>9,} "
              f"{r['train_per_s']:>8,.0f} {r['epoch_s']:>8,.1f} {r['map_per_s']:>9,.0f} "
              f"{r['map_s']:>7,.1f} {r['peak_mb']:>8,.0f}")
    audio = [_run(["--child", "audio", "--n-clips", n, "--jobs", str(args.jobs)])
             for n in args.clips.split(",")]
    print(f"\nextract_features, UrbanSound8K, jobs {args.jobs}")
    print(f"{'clips':>6} {'windows':>8} {'cold s':>7} {'cold clips/s':>12} {'warm s':>7} "
          f"{'warm clips/s':>12} {'windows MB':>10} {'peak MB':>8}")
    for r in audio:
        print(f"{r['clips']:>6} {r['windows']:>8,} {r['cold_s']:>7.2f} "
              f"{r['clips'] / r['cold_s']:>12,.0f} {r['warm_s']:>7.3f} "
              f"{r['clips'] / r['warm_s']:>12,.0f} {r['array_mb']:>10.1f} {r['peak_mb']:>8,.0f}")
    print(f"\ntotal {time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    main()
