"""Dihedral test-time augmentation on line W + dropout 0.6 + weight decay 5e-4 (issue 13).

Each seed's saved model scores its validation and test pixels as trained (plain) and as the
mean softmax over the 8 rotations / mirrorings of each patch (tta); the choice is made on
validation. Usage (run folders with checkpoints):
    python tta.py runs/p14/W_reg > tta.txt
"""
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from spectranet.config import HSIConfig
from spectranet.engine.identity import read_run
from spectranet.engine.run import rescore
from spectranet.hsi.inference import model_from_metadata, saved_proba
from spectranet.hsi.pipeline import load_scene_of


class DihedralMean(nn.Module):
    """log of the model's mean softmax over the 8 dihedral poses of each patch."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = 0
        for k in range(4):
            turned = torch.rot90(x, k, dims=(-2, -1))
            for pose in (turned, turned.flip(-1)):
                total = total + torch.softmax(self.model(pose).float(), dim=1)
        return torch.log(total / 8)


for run in sys.argv[1:]:
    config = HSIConfig(**read_run(run, expect="hsi")[0]["config"])
    scene = load_scene_of(config, None)
    labels = scene.labels.ravel()

    def score(saved):
        split = json.loads((Path(saved.path).parent / "split.json").read_text())
        out = {"seed": saved.metadata["seed"]}
        for name in ("val", "test"):
            pixels = np.asarray(split[name], dtype=np.int64)
            for tag, model in (("plain", saved.model), ("tta", DihedralMean(saved.model).eval())):
                p, ids = saved_proba(dataclasses.replace(saved, model=model), scene, pixels)
                out[f"{name}_{tag}"] = 100 * float((p.argmax(1) == labels[ids]).mean())
        print(run, {k: round(v, 2) for k, v in out.items()}, flush=True)
        return out

    rows = rescore(run, domain="hsi", build=model_from_metadata, score=score,
                   pattern="seed_*/checkpoint.pt")
    for key in ("val_plain", "val_tta", "test_plain", "test_tta"):
        v = np.array([r[key] for r in rows])
        print(f"  {key}: {v.mean():.2f} ± {v.std():.2f} ({' / '.join(f'{x:.2f}' for x in v)})")
