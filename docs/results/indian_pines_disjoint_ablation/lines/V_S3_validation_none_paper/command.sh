#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
.venv/bin/spectranet hsi train --no-progress --scene indian_pines --protocol paper --seeds 0 1 2 \
    --preset standard --validation none --model fast3dcnn_stem --components 200 --no-pca --unit-norm \
    --out runs/p13/S3_vnone_paper
