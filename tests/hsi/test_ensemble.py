import json

import numpy as np
import pytest

from spectranet.config import make_config
from spectranet.engine.run import rescore
from spectranet.errors import DataError
from spectranet.hsi import inference, pipeline
from spectranet.hsi.ensemble import ensemble, score_ensemble


def test_mean_probabilities_by_hand():
    # truth: class 0 everywhere. Member a is right on pixels 0 and 2, b on pixel 1 only; the
    # mean probabilities of class 0 are 0.65, 0.65, 0.525: right everywhere. A majority vote
    # of the two members would tie on pixels 0 and 1.
    a = np.array([[0.9, 0.1], [0.4, 0.6], [0.6, 0.4]])
    b = np.array([[0.4, 0.6], [0.9, 0.1], [0.45, 0.55]])
    scored = score_ensemble([a, b], np.array([0, 0, 0]), n_classes=2)
    assert [m["overall_accuracy"] for m in scored["members"]] == pytest.approx([2 / 3, 1 / 3])
    assert scored["ensemble"]["overall_accuracy"] == 1.0
    np.testing.assert_allclose(scored["probabilities"][:, 0], [0.65, 0.65, 0.525])
    # one member is its own ensemble
    alone = score_ensemble([a], np.array([0, 1, 1]), n_classes=2)
    assert alone["ensemble"] == alone["members"][0]


def test_score_ensemble_errors():
    with pytest.raises(DataError, match="at least one member"):
        score_ensemble([], np.array([0]), n_classes=2)
    with pytest.raises(DataError, match=r"member 1's probabilities must have shape \(2, 2\)"):
        score_ensemble([np.ones((2, 2)), np.ones((3, 2))], np.array([0, 1]), n_classes=2)


def test_ensemble_of_a_run_with_a_split_seed(tmp_path, user_scene):
    files = user_scene
    config = make_config("hsi", "quick", window=9, components=16, epochs=2, seeds=[0, 1],
                         split_seed=4, **files)
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    result = ensemble(out)
    assert result["n_members"] == 2 and [m["seed"] for m in result["members"]] == [0, 1]
    # each member scores its test set as the training run did
    for member in result["members"]:
        saved = json.loads((out / f"seed_{member['seed']}/metrics.json").read_text())
        assert member["test"]["overall_accuracy"] == pytest.approx(saved["overall_accuracy"])
    # the ensemble: arg-max of the mean of the members' probabilities, computed here directly
    split = json.loads((out / "seed_0/split.json").read_text())
    scene = pipeline.load_scene_of(config)
    pixels = np.asarray(split["test"])
    probs = rescore(out, domain="hsi", build=inference.model_from_metadata,
                    score=lambda saved: inference.saved_proba(saved, scene, pixels),
                    pattern="seed_*/checkpoint.pt")
    for _, ids in probs:
        np.testing.assert_array_equal(ids, pixels)
    mean = np.mean([p for p, _ in probs], axis=0)
    expected = (mean.argmax(1) == scene.labels.ravel()[pixels]).mean()
    assert result["ensemble"]["test"]["overall_accuracy"] == pytest.approx(expected)
    assert result["split_sizes"]["test"] == len(pixels)


def test_ensemble_of_runs_without_validation_scores_the_test_set(tmp_path, user_scene):
    config = make_config("hsi", "quick", window=9, components=16, epochs=2, seeds=[0, 1],
                         split_seed=4, validation="none", **user_scene)
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    result = ensemble(out)
    assert set(result["ensemble"]) == {"test"} and result["split_sizes"]["val"] == 0
    for member in result["members"]:
        saved = json.loads((out / f"seed_{member['seed']}/metrics.json").read_text())
        assert member["test"]["overall_accuracy"] == pytest.approx(saved["overall_accuracy"])


def test_ensemble_refuses_members_of_other_splits(tmp_path, user_scene):
    files = user_scene
    config = make_config("hsi", "quick", window=9, components=16, epochs=1, seeds=[0, 1],
                         **files)
    pipeline.train(config, tmp_path / "run", progress=False)
    with pytest.raises(DataError, match="seed_1/split.json: not the split of the first member"):
        ensemble(tmp_path / "run")
