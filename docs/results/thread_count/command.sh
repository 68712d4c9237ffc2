#!/usr/bin/env bash
# The same run with 1 and 2 torch threads (bf16 autocast, 2 epochs; fp32, 1 epoch), seed 0.
export SPECTRANET_DATA=${SPECTRANET_DATA:-../shared/data}
for t in 1 2; do
  OMP_NUM_THREADS=$t spectranet hsi train --scene indian_pines --preset paper --epochs 2 --seeds 0 --no-progress --out runs/thr$t
  OMP_NUM_THREADS=$t spectranet hsi train --scene indian_pines --preset paper --epochs 1 --seeds 0 --precision fp32 --no-progress --out runs/thrf$t
done
