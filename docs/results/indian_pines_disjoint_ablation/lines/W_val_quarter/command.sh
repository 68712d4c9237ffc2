#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# validation a quarter of the non-test pixels (17.5 % of the kept pixels) instead of half
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --seeds 0 1 2 --val-fraction 0.25 --out runs/p14/W_disjoint
# seeds_3_7/: run with --preset standard after it set val_fraction 0.25 (the same configuration)
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --seeds 3 4 5 6 7 --out runs/p14/std_seeds3_7
