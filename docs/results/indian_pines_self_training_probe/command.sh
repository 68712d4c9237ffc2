#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=/work/shared/data OMP_NUM_THREADS=1
.venv/bin/spectranet hsi train --scene indian_pines --preset standard --protocol disjoint --self-training 0.9 --seeds 0 1 2 --no-progress --out runs/hsi/disjoint_self_training_090 > runs/hsi/disjoint_self_training_090.log 2>&1
echo "exit $?" >> runs/hsi/disjoint_self_training_090.log
