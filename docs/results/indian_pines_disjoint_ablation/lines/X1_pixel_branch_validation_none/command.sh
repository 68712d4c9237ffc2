#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --seeds 0 1 2 --model fast3dcnn_stem_pixel --validation none --out runs/p14/P1_pixel_none
