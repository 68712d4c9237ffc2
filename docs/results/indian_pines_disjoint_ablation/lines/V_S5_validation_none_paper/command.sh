#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# S5 (= --preset standard since 2026-12-01) with --validation none under the paper protocol
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --model fast3dcnn_stem --components 200 --no-pca --unit-norm --stem-init pca \
    --protocol paper --validation none --seeds 0 1 2 --out runs/p13/V_S5_paper
