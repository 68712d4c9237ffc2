#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# S5 (= --preset standard since 2026-12-01) on regions cut in blocks of 25 stripes instead of 40
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --model fast3dcnn_stem --components 200 --no-pca --unit-norm --stem-init pca \
    --protocol disjoint --block 25 --seeds 0 1 2 --out runs/p13/P25_S5
