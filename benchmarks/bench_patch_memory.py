"""Peak resident memory of a 25 x 25 training epoch + full-scene map: ours vs float64 patches.

Issue 5, benchmark 2 (target: our peak flat as the scene grows, and at most 1/5 of the
reference's at Salinas size). Every case runs in a **fresh subprocess** that reports its peak
resident set (``VmHWM`` of ``/proc/self/status``) and its resident set after imports and
loading the cube (``base``). The scene is Indian Pines reduced to 20 PCA components
(computed once by the parent and handed over as ``.npy``), tiled to larger scenes:
``1x`` = 145 x 145 (21,025 pixels), ``2x`` = 290 x 145, ``salinas`` = 512 x 217 (111,104
pixels, Salinas' size; labelled fraction stays Indian Pines' 49 %).

- ``ours``: :class:`~spectranet.hsi.patches.PatchDataset` over every labelled pixel +
  :class:`~spectranet.hsi.patches.PatchBatches` (batch 256, shuffled) feeding Fast3DCNN(20, 25)
  forward/backward with Adam, then :func:`~spectranet.hsi.maps.predict_map` over every pixel
  (batch ``--map-batch``, default 1024 as in the pipeline).
- ``reference``: the common approach: every labelled pixel's patch cut from a float64 padded
  cube into one float64 array (n, 20, 25, 25), batches sliced from it and cast to float32;
  training patches freed; then every pixel's patch materialised the same way for the map.

Both sides: fp32, 1 thread, the same seeded model. To keep each case short the model computes
only ``--batches`` training batches (the "epoch" still walks every batch of the loader) and the
first ``--batches`` map batches; the other map batches are still gathered / sliced (the memory
under test) but skip the convolutions (whose activations are the same at every batch, so the
peak is already reached). A reference that would need more than ``--max-reference-gb`` is not
run: its peak is computed as ``our peak + n_pixels x 20 x 25 x 25 x 8 B`` (the all-pixel float64
patch array on top of the same model, activations and batches), a formula checked against the
scenes where the reference is measured.

Run: ``SPECTRANET_DATA=../shared/data .venv/bin/python benchmarks/bench_patch_memory.py``
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

WINDOW, BANDS, TRAIN_BATCH = 25, 20, 256
SCENES = {"1x": (145, 145), "2x": (290, 145), "salinas": (512, 217)}
TARGET_FRACTION = 0.2


def _status(key: str) -> float:
    """A ``/proc/self/status`` memory line (kB) in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def _tile(cube: np.ndarray, labels: np.ndarray, shape: tuple[int, int]):
    h, w = shape
    reps = (math.ceil(h / cube.shape[0]), math.ceil(w / cube.shape[1]))
    return (np.ascontiguousarray(np.tile(cube, (*reps, 1))[:h, :w]),
            np.ascontiguousarray(np.tile(labels, reps)[:h, :w]))


def child(args: argparse.Namespace) -> None:
    """One case in this (fresh) process; prints one JSON line."""
    import torch
    from torch import nn

    from spectranet.engine.scoring import predict_proba
    from spectranet.engine.training import seed_everything
    from spectranet.hsi.maps import predict_map
    from spectranet.hsi.models import Fast3DCNN
    from spectranet.hsi.patches import PatchBatches, PatchDataset

    torch.set_num_threads(1)
    data = np.load(args.data)
    cube, labels = _tile(data["cube"], data["labels"], SCENES[args.scene])
    n_classes = int(labels.max()) + 1
    seed_everything(0)
    model = Fast3DCNN(BANDS, WINDOW, n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    base = _status("VmRSS")
    budget = {"train": args.batches, "map": args.batches}

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        if budget["train"] <= 0:
            return
        budget["train"] -= 1
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    class FewBatches(nn.Module):
        """The real model on the first batches, then zero logits (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            self.net = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if budget["map"] > 0:
                budget["map"] -= 1
                return self.net(x)
            return torch.zeros(len(x), n_classes)

    train_pixels = np.flatnonzero(labels.ravel() >= 0)
    tic = time.perf_counter()
    if args.case == "ours":
        train = PatchDataset(cube, labels, train_pixels, window=WINDOW)
        for batch in PatchBatches(train, TRAIN_BATCH, shuffle=True, seed=0):
            step(batch["x"], batch["y"])
        predict_map(FewBatches(), cube, window=WINDOW, batch_size=args.map_batch,
                    progress=False)
    else:
        m = WINDOW // 2
        padded = np.pad(cube.astype(np.float64), ((m, m), (m, m), (0, 0)), mode="reflect")
        windows = np.lib.stride_tricks.sliding_window_view(padded, (WINDOW, WINDOW), (0, 1))
        h, w = labels.shape

        def materialise(pixels: np.ndarray) -> np.ndarray:  # (n, bands, S, S) float64
            rows, cols = np.divmod(pixels, w)
            return windows[rows, cols]

        patches, targets = materialise(train_pixels), labels.ravel()[train_pixels]
        order = np.random.default_rng(0).permutation(len(patches))
        for s in range(0, len(order), TRAIN_BATCH):
            idx = order[s:s + TRAIN_BATCH]
            step(torch.from_numpy(patches[idx]).float().unsqueeze(1),
                 torch.from_numpy(targets[idx]))
        del patches
        every = materialise(np.arange(h * w))
        def loader():
            for s in range(0, h * w, args.map_batch):
                yield {"x": torch.from_numpy(every[s:s + args.map_batch]).float().unsqueeze(1),
                       "id": torch.arange(s, min(s + args.map_batch, h * w))}

        proba, _ = predict_proba(FewBatches(), loader())
        proba.argmax(1).reshape(h, w)
    print(json.dumps({"case": args.case, "scene": args.scene, "pixels": int(labels.size),
                      "labelled": int(train_pixels.size), "base_mb": base,
                      "peak_mb": _status("VmHWM"), "seconds": time.perf_counter() - tic}))


def reference_formula_mb(ours_peak_mb: float, pixels: int) -> float:
    """Predicted reference peak: our peak + the all-pixel float64 patch array (MB)."""
    return ours_peak_mb + pixels * BANDS * WINDOW * WINDOW * 8 / 2**20


def run_case(data: Path, case: str, scene: str, batches: int, map_batch: int) -> dict:
    """Run one case in a fresh interpreter and return its JSON report."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, "--scene", scene, "--data", str(data),
         "--batches", str(batches), "--map-batch", str(map_batch)],
        check=True, capture_output=True, text=True, env=None,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("ours", "reference"), dest="case",
                        help=argparse.SUPPRESS)
    parser.add_argument("--scene", choices=tuple(SCENES), default="1x", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, default=2,
                        help="training and map batches that run the model (default 2)")
    parser.add_argument("--map-batch", type=int, default=1024,
                        help="patches per map batch, both sides (default 1024, the pipeline's)")
    parser.add_argument("--scenes", default="1x,2x,salinas", help="scenes to measure")
    parser.add_argument("--max-reference-gb", type=float, default=8.0,
                        help="run the reference only if its predicted peak is below this "
                             "(shared machine: other jobs need the memory); default 8")
    args = parser.parse_args(argv)
    if args.case:
        child(args)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import data_root, machine_summary

    from spectranet.hsi.datasets import load_scene
    from spectranet.hsi.reduce import SpectralReducer

    print(machine_summary())
    scene = load_scene("indian_pines", root=data_root())
    reduced = SpectralReducer(BANDS).fit(scene.cube).transform(scene.cube).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "indian_pines_pca20.npz"
        np.savez(data, cube=reduced, labels=scene.labels)
        for name in args.scenes.split(","):
            ours = run_case(data, "ours", name, args.batches, args.map_batch)
            h, w = SCENES[name]
            predicted = reference_formula_mb(ours["peak_mb"], h * w)
            ref = {"peak_mb": None, "predicted_mb": predicted}
            if predicted / 1024 <= args.max_reference_gb:
                ref |= run_case(data, "reference", name, args.batches, args.map_batch)
            rows.append((name, ours, ref))
    print(f"window {WINDOW}, {BANDS} PCA bands, Fast3DCNN fp32, train batch {TRAIN_BATCH}, "
          f"map batch {args.map_batch}, model run on {args.batches} batches of each; "
          "peak RSS (MB)")
    print(f"{'scene':<9}{'pixels':>9}{'labelled':>9}{'ours base':>10}{'ours peak':>10}"
          f"{'ref peak':>10}{'ref formula':>12}{'ours/ref':>9}")
    for name, ours, ref in rows:
        measured = ref["peak_mb"]
        shown = f"{measured:,.0f}" if measured else "not run"
        denom = measured or ref["predicted_mb"]
        print(f"{name:<9}{ours['pixels']:>9,}{ours['labelled']:>9,}{ours['base_mb']:>10,.0f}"
              f"{ours['peak_mb']:>10,.0f}{shown:>10}{ref['predicted_mb']:>12,.0f}"
              f"{ours['peak_mb'] / denom:>9.3f}{'' if measured else ' (formula)'}")
    first, last = rows[0][1], rows[-1][1]
    growth = last["peak_mb"] - first["peak_mb"]
    print(f"ours: peak grows {growth:+,.0f} MB from {rows[0][0]} to {rows[-1][0]} "
          f"({last['pixels'] / first['pixels']:.1f}x the pixels)")
    fraction = last["peak_mb"] / (rows[-1][2]["peak_mb"] or rows[-1][2]["predicted_mb"])
    verdict = "met" if fraction <= TARGET_FRACTION else "MISSED"
    print(f"target ours <= 1/5 of the reference at {rows[-1][0]}: {verdict} ({fraction:.3f})")


if __name__ == "__main__":
    main()
