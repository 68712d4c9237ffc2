#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
# the standard preset (second revision) without early stopping: validation scored every epoch, the last epoch kept
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --validation monitor --seeds 0 1 2 --out runs/p14/M_monitor
.venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --protocol disjoint --validation monitor --seeds 3 4 5 6 7 --out runs/p14/M_monitor_seeds3_7  # seeds_3_7/
