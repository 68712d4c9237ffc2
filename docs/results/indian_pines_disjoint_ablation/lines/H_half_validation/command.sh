#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
D=docs/results/indian_pines_disjoint_ablation
mkdir -p runs/p14/half
.venv/bin/python $D/half_val_splits.py runs/p14/W_disjoint runs/p14/half > $D/half_val_splits.txt
for s in 0 1 2; do
  .venv/bin/spectranet hsi train --no-progress --preset standard --scene indian_pines --validation split --split-file runs/p14/half/seed_${s}_codes.npy --seeds $s --out runs/p14/half/run_$s
done
.venv/bin/python $D/half_val_score.py runs/p14/half runs/p14/M_monitor runs/p14/W_disjoint 0 1 2 > $D/half_val_score.txt
