#!/usr/bin/env bash
cd /work/main
# S5 = the `standard` preset since 2026-12-01 (then given explicitly on top of the old standard preset)
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
S="--no-progress --preset standard --scene indian_pines --model fast3dcnn_stem --components 200 --no-pca --unit-norm --stem-init pca"
.venv/bin/spectranet hsi train $S --protocol disjoint --seeds 0 1 2 --out runs/p13/S5_disjoint
.venv/bin/spectranet hsi train $S --protocol disjoint --seeds 3 4 5 6 7 --out runs/p13/S5_seeds3_7  # seeds_3_7/: five more seeds, each its own regions, to measure the spread
