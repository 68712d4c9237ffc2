"""Full-scene inference (pixels/s) of the fast 3D CNN at 11 x 11 on Indian Pines (145 x 145).

Issue 5, benchmark 4 (target: >= 15,000 pixels/s on this 2-core machine). Candidates, timed
interleaved in one process on the PCA-20 reduced scene (21,025 pixels, every one classified):

- ``per-pixel loop``: the common approach, one patch per forward pass in fp32, timed on a
  random subsample of pixels and extrapolated to the scene;
- ``reference``: a plain fp32 batched loop (patches cut with NumPy from a padded cube, batches
  of ``--batch-size``, ``torch.no_grad``);
- ``predict_map fp32``: :func:`spectranet.hsi.maps.predict_map` in fp32;
- ``ours``: ``predict_map(..., precision="bf16")``.

The weights are random (speed does not depend on them); the maps of the reference and of
``predict_map`` in fp32 are checked equal, and the bf16 map's agreement with them is printed.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_inference.py``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_threads_option, data_root, interleaved_rates, print_comparison, start

from spectranet.engine.training import seed_everything
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.maps import predict_map
from spectranet.hsi.models import Fast3DCNN
from spectranet.hsi.reduce import SpectralReducer

WINDOW = 11
TARGET_PIXELS_PER_SECOND = 15_000


def _patches(padded: np.ndarray, rows: np.ndarray, cols: np.ndarray, window: int) -> np.ndarray:
    """(n, 1, bands, S, S) float32 patches whose top-left corners in ``padded`` are (rows, cols)."""
    win = np.lib.stride_tricks.sliding_window_view(padded, (window, window), axis=(0, 1))
    return np.ascontiguousarray(win[rows, cols][:, None])  # (n, 1, bands, S, S)


@torch.no_grad()
def plain_batched_map(
    model: nn.Module, cube: np.ndarray, window: int, batch_size: int
) -> np.ndarray:
    """Reference: fp32 batched loop over every pixel, patches cut with NumPy per batch."""
    m = window // 2
    padded = np.pad(cube, ((m, m), (m, m), (0, 0)), mode="reflect").astype(np.float32)
    h, w = cube.shape[:2]
    rows, cols = np.divmod(np.arange(h * w), w)
    model.eval()
    out = np.empty(h * w, dtype=np.int64)
    for s in range(0, h * w, batch_size):
        part = slice(s, s + batch_size)
        x = torch.from_numpy(_patches(padded, rows[part], cols[part], window))
        out[s:s + batch_size] = model(x).argmax(1).numpy()
    return out.reshape(h, w)


@torch.no_grad()
def per_pixel_rate(
    model: nn.Module, cube: np.ndarray, window: int, pixels: np.ndarray
) -> Callable[[], int]:
    """The batch-of-1 loop on ``pixels`` (flat indices); returns a timed callable."""
    m = window // 2
    padded = np.pad(cube, ((m, m), (m, m), (0, 0)), mode="reflect").astype(np.float32)
    rows, cols = np.divmod(pixels, cube.shape[1])

    def run() -> int:
        model.eval()
        with torch.no_grad():
            for r, c in zip(rows, cols, strict=True):
                x = torch.from_numpy(_patches(padded, np.array([r]), np.array([c]), window))
                model(x).argmax(1)
        return len(pixels)

    return run


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--batch-size", type=int, default=1024, help="patches per forward pass")
    parser.add_argument("--per-pixel-sample", type=int, default=300,
                        help="pixels timed by the batch-of-1 loop (extrapolated)")
    args = parser.parse_args(argv)
    start(args.threads)
    scene = load_scene("indian_pines", root=data_root())
    cube = SpectralReducer(20).fit(scene.cube).transform(scene.cube)
    h, w = cube.shape[:2]
    seed_everything(0)
    model = Fast3DCNN(20, WINDOW, len(scene.class_names)).eval()
    sample = np.random.default_rng(0).choice(h * w, args.per_pixel_sample, replace=False)
    bs = args.batch_size

    def full_scene(fn: Callable[[], np.ndarray]) -> Callable[[], int]:
        def run() -> int:
            fn()
            return h * w
        return run

    candidates = {
        "per-pixel loop": per_pixel_rate(model, cube, WINDOW, sample),
        "reference": full_scene(lambda: plain_batched_map(model, cube, WINDOW, bs)),
        "predict_map fp32": full_scene(lambda: predict_map(
            model, cube, window=WINDOW, batch_size=bs, precision="fp32", progress=False)),
        "ours": full_scene(lambda: predict_map(
            model, cube, window=WINDOW, batch_size=bs, precision="bf16", progress=False)),
    }
    tic = time.perf_counter()
    rates = interleaved_rates(candidates, rounds=args.rounds, warmup=1)
    print(f"Indian Pines {h}x{w} = {h * w:,} pixels, window {WINDOW}, batch {bs}, "
          f"{args.rounds} rounds in {time.perf_counter() - tic:.0f} s")
    ref = rates["reference"]
    for name in ("per-pixel loop", "predict_map fp32"):
        print(f"    {name:<40} {rates[name]:>10,.0f} pixels/s  ratio {rates[name] / ref:5.2f}x"
              f"{'  (extrapolated)' if name == 'per-pixel loop' else ''}")
    print_comparison("fast 3D CNN map vs plain fp32 batched loop", ref, rates["ours"],
                     unit="pixels/s")
    print_comparison("fast 3D CNN map vs per-pixel loop", rates["per-pixel loop"], rates["ours"],
                     unit="pixels/s")
    verdict = "met" if rates["ours"] >= TARGET_PIXELS_PER_SECOND else "MISSED"
    print(f"target >= {TARGET_PIXELS_PER_SECOND:,} pixels/s: {verdict} ({rates['ours']:,.0f})")
    reference_map = plain_batched_map(model, cube, WINDOW, bs)
    fp32_map = predict_map(model, cube, window=WINDOW, batch_size=bs, progress=False)
    bf16_map = predict_map(model, cube, window=WINDOW, batch_size=bs, precision="bf16",
                           progress=False)
    print(f"maps: predict_map fp32 == reference: {np.array_equal(fp32_map, reference_map)}; "
          f"bf16 agrees with fp32 on {np.mean(bf16_map == fp32_map):.2%} of pixels "
          "(random weights)")


if __name__ == "__main__":
    main()
