#!/usr/bin/env bash
cd /work/main
# S5 = the `standard` preset since 2026-12-01 (then given explicitly on top of the old standard preset)
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
S="--no-progress --preset standard --scene indian_pines --model fast3dcnn_stem --components 200 --no-pca --unit-norm --stem-init pca"
.venv/bin/spectranet hsi train $S --protocol paper --seeds 0 --out runs/p13/S5_paper
.venv/bin/spectranet hsi train $S --protocol paper --seeds 1 2 --out runs/p13/S5_paper_s12  # seeds_1_2/
