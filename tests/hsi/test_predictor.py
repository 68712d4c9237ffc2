"""A trained hyperspectral model answering: numbers pinned before the predictor was built, and
a checkpoint of the earlier format kept as a fixture.

The pinned numbers come from running the code of commit d6206fa (before
:class:`~spectranet.hsi.predictor.HSIPredictor`) on real Indian Pines: two epochs of the quick
preset, window 9, seed 0, one torch and one BLAS thread. They must stay bit-identical.
"""

import hashlib
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from spectranet.config import make_config
from spectranet.engine.checkpoints import load_checkpoint
from spectranet.engine.run import model_from_state
from spectranet.hsi import inference, pipeline

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "checkpoint_v1"

#: Metrics of the plain run and of the run with the SVM member ("auto" weight, window 3).
PINNED = {
    "plain": {
        "overall_accuracy": 0.5665584415584416,
        "average_accuracy": 0.3600618513643149,
        "kappa": 0.48794896774731045,
        "macro_f1": 0.33294525187812585,
        "diagonal": [0, 205, 5, 0, 113, 216, 0, 144, 0, 86, 629, 5, 29, 308, 5, 0],
        "map_sha256": "8c129ad7d32bf90aae6f143e37afc5f80ee04430bffc9b846aead89876bfd4b7",
    },
    "svm": {
        "overall_accuracy": 0.9652597402597403,
        "average_accuracy": 0.8650874603893294,
        "kappa": 0.9603862806424548,
        "macro_f1": 0.8724981418356461,
        "diagonal": [0, 413, 242, 64, 144, 219, 5, 144, 4, 277, 715, 171, 62, 377, 108, 28],
        "map_sha256": "4341f8aaef7fb50dd7ea876f632eb871709a74534deee109c8e4431dfe1f51e7",
        "svm_mix": {"weight": 0.6, "neighbourhood": 3,
                    "val_accuracy_cnn": 0.5625698324022347,
                    "val_accuracy_svm": 0.9717877094972067,
                    "val_accuracy_mixed": 0.9720670391061452,
                    "test_accuracy_cnn": 0.5665584415584416,  # the plain run's OA
                    "test_accuracy_svm": 0.9652597402597403,
                    "test_accuracy_mixed": 0.9652597402597403},
    },
}
BASELINE = {"overall_accuracy": 0.8938311688311689, "average_accuracy": 0.789566902613265,
            "kappa": 0.8789125792729104, "macro_f1": 0.8052780064366323}
OPTIONS = {"plain": {}, "svm": {"svm_weight": "auto", "svm_neighbourhood": 3}}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One torch and one BLAS thread: the pinned numbers were computed so."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=sorted(OPTIONS))
def pinned_run(request, tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("pinned") / request.param
    config = make_config("hsi", "quick", scene="indian_pines", epochs=2, window=9, seeds=[0],
                         **OPTIONS[request.param])
    return request.param, out, pipeline.train(config, out, root=data_root, progress=False)


def _headline(metrics):
    return {k: metrics[k] for k in ("overall_accuracy", "average_accuracy", "kappa", "macro_f1")}


def test_two_epochs_on_indian_pines_give_the_pinned_metrics(pinned_run):
    name, out, metrics = pinned_run
    pinned = PINNED[name]
    assert _headline(metrics) == {k: pinned[k] for k in _headline(pinned)}
    assert np.diagonal(metrics["confusion_matrix"]).tolist() == pinned["diagonal"]
    assert metrics["svm_baseline"] == BASELINE
    mix = metrics.get("svm_mix")
    assert (None if mix is None else {k: mix[k] for k in pinned["svm_mix"]}) \
        == pinned.get("svm_mix")
    saved_map = np.load(out / "seed_0" / "map.npy")
    assert hashlib.sha256(saved_map.tobytes()).hexdigest() == pinned["map_sha256"]


def test_evaluate_gives_the_pinned_metrics_from_the_checkpoint(pinned_run, data_root):
    name, out, _ = pinned_run
    assert _headline(inference.evaluate(out, root=data_root, progress=False)) \
        == {k: PINNED[name][k] for k in _headline(PINNED[name])}


def test_predict_gives_the_pinned_map(pinned_run, data_root, tmp_path):
    name, out, _ = pinned_run
    cube = data_root / "hsi" / "indian_pines" / "Indian_pines_corrected.mat"
    inference.predict(out, cube, out=tmp_path / "pred", progress=False)
    assert np.array_equal(np.load(tmp_path / "pred" / "map.npy"),
                          np.load(out / "seed_0" / "map.npy"))


def _fixture_saved():
    path = FIXTURE / "checkpoint.pt"
    return model_from_state(load_checkpoint(path), "hsi", inference.model_from_metadata, path)


def test_a_checkpoint_of_the_earlier_format_gives_its_stored_probabilities():
    expected = np.load(FIXTURE / "expected.npz")
    cube = np.load(FIXTURE / "cube.npy")
    scene = types.SimpleNamespace(cube=cube, labels=np.full(cube.shape[:2], -1, np.int64))
    proba, ids = inference.saved_proba(_fixture_saved(), scene, expected["pixels"])
    assert np.array_equal(ids, expected["ids"])
    assert np.array_equal(proba, expected["pixel_proba"])
    assert np.array_equal(proba, expected["map"].reshape(-1, 2)[expected["pixels"]])
