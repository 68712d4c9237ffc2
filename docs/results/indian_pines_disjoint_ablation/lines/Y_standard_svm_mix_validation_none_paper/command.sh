#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# the standard preset's fourth revision as a final model, paper protocol: the validation half trains too (70 % of the labelled pixels), beside one other 1-thread run
.venv/bin/spectranet hsi train --no-progress --preset standard --validation none --scene indian_pines --protocol paper --seeds 0 1 2 --out runs/p15/N_paper
