"""The run layer's way back from a run folder to its models: best_model, rescore."""

import dataclasses

import pytest
import torch

from spectranet.engine.checkpoints import save_checkpoint
from spectranet.engine.run import Run, best_model, model_from_state, rescore
from spectranet.errors import DataError, DataNotFoundError


@dataclasses.dataclass
class _Config:
    width: int = 3


def _build(meta):
    return torch.nn.Linear(meta["width"], 2)


def _run(tmp_path, accuracies, domain="hsi"):
    """A run folder with one unit per accuracy; unit i's bias is filled with i."""
    run = Run.open(tmp_path / "run", _Config(), "fp", domain=domain, distributed=False)
    for i, acc in enumerate(accuracies):
        model = _build({"width": 3})
        torch.nn.init.constant_(model.bias, float(i))
        save_checkpoint({"model": model.state_dict(), "best_val_accuracy": acc,
                         "train_seconds": 10.0 + i,
                         "metadata": {"domain": domain, "width": 3, "unit": i}},
                        run.path / f"seed_{i}" / "checkpoint.pt")
    return run.path


def test_best_model_is_the_unit_with_the_best_validation_accuracy(tmp_path):
    run = _run(tmp_path, [0.5, 0.9, 0.9, 0.7])
    saved = best_model(run, domain="hsi", build=_build)
    assert saved.metadata["unit"] == 1  # first of the tie
    assert saved.path == run / "seed_1" / "checkpoint.pt"
    assert torch.equal(saved.model.bias, torch.ones(2)) and not saved.model.training
    assert saved.train_seconds == 11.0
    assert best_model(run, domain="hsi", build=_build,
                      pattern="seed_3/checkpoint.pt").metadata["unit"] == 3


def test_rescore_scores_every_unit_in_path_order(tmp_path):
    run = _run(tmp_path, [0.5, 0.9, 0.7])
    scores = rescore(run, domain="hsi", build=_build,
                     score=lambda s: {"unit": s.metadata["unit"],
                                      "bias": s.model.bias[0].item()})
    assert scores == [{"unit": 0, "bias": 0.0}, {"unit": 1, "bias": 1.0},
                      {"unit": 2, "bias": 2.0}]


def test_another_domain_or_no_checkpoint_is_refused(tmp_path):
    run = _run(tmp_path, [0.5], domain="audio")
    with pytest.raises(DataError, match=r"a sound run, not a hyperspectral one"):
        best_model(run, domain="hsi", build=_build)
    with pytest.raises(DataNotFoundError, match=r"no seed_4/checkpoint.pt"):
        best_model(run, domain="audio", build=_build, pattern="seed_4/checkpoint.pt")
    state = {"model": {}, "metadata": {"domain": "audio"}}
    with pytest.raises(DataError, match=r"x.pt: a checkpoint of a 'audio' run, not 'hsi'"):
        model_from_state(state, "hsi", _build, "x.pt")
