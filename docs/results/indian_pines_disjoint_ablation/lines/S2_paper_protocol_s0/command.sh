#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
.venv/bin/spectranet hsi train --no-progress --scene indian_pines --protocol paper --seeds 0 --preset standard \
    --model fast3dcnn_stem --components 200 --no-pca --out runs/p13/S2_paper_s0
