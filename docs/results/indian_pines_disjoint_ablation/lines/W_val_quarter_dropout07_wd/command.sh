#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --val-fraction 0.25 --protocol disjoint --seeds 0 1 2 --dropout 0.7 --weight-decay 0.0005 --out runs/p14/G_d07
