#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --val-fraction 0.25 --dropout 0.6 --weight-decay 0.0005 --protocol disjoint --seeds 0 1 2 --out runs/p14/W_reg
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --val-fraction 0.25 --dropout 0.6 --weight-decay 0.0005 --protocol disjoint --seeds 3 4 5 6 7 --out runs/p14/W_reg_seeds3_7  # seeds_3_7/
