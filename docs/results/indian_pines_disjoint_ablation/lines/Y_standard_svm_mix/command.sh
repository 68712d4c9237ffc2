#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# the standard preset's fourth revision (svm_weight 0.5), disjoint protocol, beside one other 1-thread run
# seeds 0-2 are also docs/results/indian_pines_standard/disjoint (with figures)
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --seeds 0 1 2 --out runs/p15/S_disjoint
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --seeds 3 4 5 6 7 --out runs/p15/S_disjoint_3_7  # seeds_3_7/
