#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# S6 = the standard preset (S5) + --spectral-shift 2
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --spectral-shift 2 --seeds 0 1 2 --out runs/p13/S6_shift2
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --spectral-shift 2 --seeds 3 4 5 6 7 --out runs/p13/S6_shift2_seeds3_7  # seeds_3_7/
