#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
nice -n 5 .venv/bin/spectranet hsi train --no-progress --preset paper --scene indian_pines --flips --window 9 \
    --model fast3dcnn_stem --components 200 --no-pca --unit-norm --protocol disjoint --split-window 11 --block 40 --seeds 0 \
    --scheduler onecycle --lr 0.003 --out runs/p13/S4_oc3_disjoint_s0
