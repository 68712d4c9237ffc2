#!/usr/bin/env bash
cd /work/main
export SPECTRANET_DATA=$(realpath ../shared/data) OMP_NUM_THREADS=1
S="nice -n 10 .venv/bin/spectranet hsi train --scene indian_pines --model fast3dcnn_stem --components 200 --no-pca --unit-norm --epochs 50 --lr 0.0003 --seeds 0"
$S --preset standard --protocol paper --out runs/p13/S3lr3e4_paper > runs/p13/S3lr3e4_paper.log 2>&1
$S --preset paper --protocol disjoint --split-window 11 --block 40 --flips --window 9 --out runs/p13/S3lr3e4_disjoint > runs/p13/S3lr3e4_disjoint.log 2>&1
