#!/usr/bin/env bash
# the epoch-rule check of lines/H_half_validation on seeds 3-7 (line W's regions; runs/p14/std_seeds3_7 is W's seeds 3-7,
# runs/p14/M_monitor_seeds3_7 the same trajectories with the last epoch kept); --svm-weight 0: the CNN alone, as on seeds 0-2
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
D=docs/results/indian_pines_disjoint_ablation
mkdir -p runs/p15/half
.venv/bin/python $D/half_val_splits.py runs/p14/std_seeds3_7 runs/p15/half > $D/half_val_splits_3_7.txt
for s in 3 4 5 6 7; do
  .venv/bin/spectranet hsi train --no-progress --preset standard --svm-weight 0 --scene indian_pines --validation split --split-file runs/p15/half/seed_${s}_codes.npy --seeds $s --out runs/p15/half/run_$s
done
.venv/bin/python $D/half_val_score.py runs/p15/half runs/p14/M_monitor_seeds3_7 runs/p14/std_seeds3_7 3 4 5 6 7 > $D/half_val_score_3_7.txt
