#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# the standard preset's fourth revision (svm_weight 0.5), paper protocol, beside one other 1-thread run
# also docs/results/indian_pines_standard/paper (with figures)
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol paper --seeds 0 1 2 --out runs/p15/S_paper
