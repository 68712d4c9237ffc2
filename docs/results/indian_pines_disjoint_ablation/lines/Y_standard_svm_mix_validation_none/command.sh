#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# the standard preset's fourth revision as a final model: the validation regions train too (the same test pixels), beside one other 1-thread run
.venv/bin/spectranet hsi train --no-progress --preset standard --validation none --scene indian_pines --protocol disjoint --seeds 0 1 2 --out runs/p15/N_disjoint
