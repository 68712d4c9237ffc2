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
from spectranet.errors import DataError
from spectranet.hsi import inference, pipeline
from spectranet.hsi.predictor import HSIPredictor, network_from_state

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


def _fixture_state():
    return load_checkpoint(FIXTURE / "checkpoint.pt")


def _fixture_predictor(state):
    saved = model_from_state(state, "hsi", network_from_state, FIXTURE / "checkpoint.pt")
    return HSIPredictor.from_saved(saved)


def _same(a, b):
    """Equal nested metadata: dicts, lists, numbers, strings and tensors (equal values)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    return type(a) is type(b) and a == b


def test_a_checkpoint_of_the_earlier_format_gives_its_stored_probabilities():
    expected = np.load(FIXTURE / "expected.npz")
    cube = np.load(FIXTURE / "cube.npy")
    predictor = _fixture_predictor(_fixture_state())
    assert (predictor.class_ids, predictor.window, predictor.svm_mix.weight) == ((3, 7), 5, 0.5)
    proba, ids = predictor.proba_pixels(cube, expected["pixels"])
    assert np.array_equal(ids, expected["ids"])
    assert np.array_equal(proba, expected["pixel_proba"])
    assert np.array_equal(predictor.proba_map(cube), expected["map"])
    cnn, _ = predictor.cnn_proba_pixels(cube, expected["pixels"])
    assert np.array_equal(cnn, expected["cnn_map"].reshape(-1, 2)[expected["pixels"]])
    assert np.array_equal(predictor.mix(cnn, predictor.svm_proba_pixels(cube, ids)), proba)


def test_the_saved_proba_of_the_earlier_format_is_the_predictor_s():
    expected = np.load(FIXTURE / "expected.npz")
    cube = np.load(FIXTURE / "cube.npy")
    saved = model_from_state(_fixture_state(), "hsi", inference.model_from_metadata, "ckpt")
    scene = types.SimpleNamespace(cube=cube, labels=np.full(cube.shape[:2], -1, np.int64))
    proba, _ = inference.saved_proba(saved, scene, expected["pixels"])
    assert np.array_equal(proba, expected["pixel_proba"])


def test_to_state_writes_back_the_metadata_it_was_read_from():
    state = _fixture_state()
    assert _same(_fixture_predictor(state).to_state(), state["metadata"])


def test_a_checkpoint_from_before_the_svm_mix_gives_the_network_alone():
    state = _fixture_state()
    del state["metadata"]["svm_mix"]  # checkpoints written before svm_weight existed
    predictor = _fixture_predictor(state)
    cube = np.load(FIXTURE / "cube.npy")
    assert predictor.svm_mix is None
    assert np.array_equal(predictor.proba_map(cube), np.load(FIXTURE / "expected.npz")["cnn_map"])
    assert predictor.to_state()["svm_mix"] is None
    with pytest.raises(DataError, match="this model has no spectral SVM mix"):
        predictor.svm_proba_pixels(cube, np.array([0]))


def test_a_cube_of_other_bands_is_refused():
    predictor = _fixture_predictor(_fixture_state())
    with pytest.raises(DataError, match=r"^new.npy: expected 6 bands, got 5$"):
        predictor.check_bands(np.zeros((12, 12, 5), np.float32), "new.npy")


def test_the_run_s_checkpoint_holds_its_predictor_s_state(pinned_run):
    name, out, _ = pinned_run
    state = load_checkpoint(out / "seed_0" / "checkpoint.pt")
    predictor = inference.load_run_predictor(out)
    assert _same(predictor.to_state(), state["metadata"])
    assert (predictor.svm_mix is None) == (name == "plain")
    assert predictor.input_shape == (1, 20, 9, 9) and predictor.n_classes == 16
