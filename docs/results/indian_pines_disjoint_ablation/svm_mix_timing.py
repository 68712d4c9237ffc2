"""Time the spectral SVM of a standard run: its fit (with calibration) and a whole-scene mix.

Usage: python svm_mix_timing.py   (from the repository root, runs/p15 holding the runs)
"""
import json, time
import numpy as np
from spectranet.hsi.datasets import load_scene
from spectranet.hsi.spectral_svm import SVMMix
scene = load_scene("indian_pines")
for run in ("runs/p15/S_disjoint/seed_0", "runs/p15/S_paper/seed_0"):
    train = np.asarray(json.load(open(f"{run}/split.json"))["train"])
    tic = time.perf_counter(); mix = SVMMix.fit(scene.cube, scene.labels, train, weight=0.5); fit = time.perf_counter() - tic
    tic = time.perf_counter(); mix.mix(np.zeros((145, 145, 16)), scene.cube); pred = time.perf_counter() - tic
    print(f"{run}: {len(train)} training pixels; SVM fit with calibration {fit:.1f} s; whole-scene SVM probabilities (21,025 pixels) {pred:.1f} s; stored spectra {mix.spectra.nbytes / 1e6:.1f} MB")
