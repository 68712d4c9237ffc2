"""A trained sound model answering: numbers pinned before the predictor was built, and a unit
of the earlier format kept as a fixture.

The pinned numbers come from running the code of commit 5a22740 (before
``spectranet.audio.predictor.SoundPredictor``) on real UrbanSound8K clips: a user folder of
folds 1, 2 and 3 (6, 3 and 3 clips per class), test fold 3, two epochs of the quick preset with
filters (4, 4, 8, 8), seed 0, one torch and one BLAS thread; once with the previous fold
validating, once with a grouped share validating and the MFCC forest fused at weight 0.5; and
the estimator on synthetic tones. They must stay bit-identical (``==``).
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from threadpoolctl import threadpool_limits

from spectranet.audio import SoundClassifier, inference, pipeline
from spectranet.audio.predictor import SoundPredictor, network_from_state
from spectranet.config import make_config
from spectranet.engine.checkpoints import load_checkpoint
from spectranet.engine.run import model_from_state
from spectranet.errors import ConfigError, DataError, DataNotFoundError
from spectranet.export import export_run, sidecar_path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "checkpoint_v1"

PER_FOLD = {1: 6, 2: 3, 3: 3}  # clips per class in each fold of the user folder
TINY = {"folds": [3], "jobs": 1, "epochs": 2, "filters": [4, 4, 8, 8], "seeds": [0],
        "sampling": "windows", "mixup": 0.0, "batch_size": 32}
OPTIONS = {
    "plain": {"validation": "fold"},
    "fused": {"validation": "group", "val_share": 0.25, "baseline": "rf",
              "baseline_weight": 0.5},
}

#: What each run gives: its metrics, a few probabilities and the sums of the saved ones.
PINNED = {
    "plain": {
        "clip_accuracy": 0.16666666666666666, "window_accuracy": 0.18857142857142858,
        "macro_f1": 0.06739130434782609, "diagonal": [0, 0, 0, 2, 0, 0, 0, 3, 0, 0],
        "best_epoch": 2, "val_accuracy": 0.2, "fusion": None,
        "clip_probs_0": [0.09012212604284286, 0.08683391660451889, 0.10737159848213196,
                         0.12510375678539276, 0.10691820085048676, 0.06924940645694733,
                         0.10395468026399612, 0.10995771735906601, 0.10420773178339005,
                         0.09628085047006607],
        "sha256": {
            "clip_ids": "290e2da9e42a98707252cd02f2f67346ed71f452ebfb2c45113a8a716327cc16",
            "clip_pred": "d7f41cb1dedf20cc829531e056f71ba027e80d357d8ecb528114cf258b86ed0e",
            "clip_probs": "c368470069bb37ce16b7a36304ab0e57321af7f141d6210986edd83147f929a7",
            "clip_true": "aed02c5a094399129187328826619320da798a2b44450a150d0fb2cd244a6324"},
    },
    "fused": {
        "clip_accuracy": 0.43333333333333335, "window_accuracy": 0.11428571428571428,
        "macro_f1": 0.3612121212121212, "diagonal": [0, 1, 3, 2, 1, 0, 3, 3, 0, 0],
        "best_epoch": 2, "val_accuracy": 0.17391304347826086,
        "fusion": {"weight": 0.5, "rule": "fixed", "seed": 0, "train_clips": 67,
                   "test_accuracy_cnn": 0.1, "test_accuracy_baseline": 0.5,
                   "test_accuracy_mixed": 0.43333333333333335,
                   "val_accuracy_cnn": 0.13043478260869565,
                   "val_accuracy_baseline": 0.9565217391304348,
                   "val_accuracy_mixed": 0.9130434782608695},
        "clip_probs_0": [0.04723135381937027, 0.07017579078674316, 0.252466346770525,
                         0.22213693830370904, 0.060579467952251435, 0.03769857978820801,
                         0.06166925725340843, 0.0522021498978138, 0.07765894329547882,
                         0.11818116840720176],
        "sha256": {
            "baseline_probs": "f13967d0fe36e4b88871f0ef2cdff66872cf2509d3e57e5b6250d58a496d7795",
            "clip_ids": "290e2da9e42a98707252cd02f2f67346ed71f452ebfb2c45113a8a716327cc16",
            "clip_pred": "021d4a77006a4803ba4b0f0e77e63c48f3ba7653b9f9049e1415719363ed33fa",
            "clip_probs": "7210707f235ea589098092015ddfc8018a47483910387daa833e0f8d8f59b427",
            "clip_true": "aed02c5a094399129187328826619320da798a2b44450a150d0fb2cd244a6324",
            "cnn_probs": "c132789d127cd1f31c057e9539a284b241c71ca5c0e40d277cdad24f744cdf61"},
    },
    # the plain run's predict on the first fold-3 clip over 2 s
    "predict": {
        "top3": [("dog_bark", 0.12510375252791814), ("jackhammer", 0.10995771948780332),
                 ("children_playing", 0.1073715974177633)],
        "windows": 7,
        "timeline": "744aeefc6af94727dff5c8b78780f04e71aceb6724439bfb6d73aa235b3f3552"},
    "estimator": {
        "dtype": "float64", "row_0": [0.5832354426383972, 0.41676458716392517],
        "sha256": "244adeeeb68ab7b9b366ca10eb73ccc3779ab07b47fce880500f9788482dc792"},
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One torch and one BLAS thread: the pinned numbers were computed so."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, us8k_folder) -> Path:
    return us8k_folder(tmp_path_factory.mktemp("us8k_pin"), PER_FOLD)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SPECTRANET_CACHE", str(tmp_path_factory.mktemp("cache_pin")))
    yield
    mp.undo()


def _pinned(name, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("pinned") / name
    config = make_config("audio", "quick", dataset=str(folder), **TINY, **OPTIONS[name])
    return name, out, pipeline.train(config, out, progress=False)


@pytest.fixture(scope="module")
def plain_run(folder, cache, tmp_path_factory):
    return _pinned("plain", folder, tmp_path_factory)


@pytest.fixture(scope="module")
def fused_run(folder, cache, tmp_path_factory):
    return _pinned("fused", folder, tmp_path_factory)


@pytest.fixture(scope="module", params=sorted(OPTIONS))
def pinned_run(request):
    return request.getfixturevalue(f"{request.param}_run")


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _record(metrics: dict, out: Path) -> dict:
    """The numbers a run must keep: metrics, the round's fusion, saved probabilities."""
    rnd = metrics["rounds"][0]
    saved = np.load(out / "fold_3" / "seed_0" / "predictions.npz")
    fusion = rnd.get("fusion")
    return {
        "clip_accuracy": metrics["clip_accuracy"],
        "window_accuracy": metrics["window_accuracy"],
        "macro_f1": metrics["macro_f1"],
        "diagonal": np.diagonal(metrics["confusion_matrix"]).tolist(),
        "best_epoch": rnd["best_epoch"],
        "val_accuracy": rnd["val_accuracy"],
        "fusion": None if fusion is None else {k: v for k, v in fusion.items()
                                               if k != "weights_tried"},
        "clip_probs_0": saved["clip_probs"][0].tolist(),
        "sha256": {k: _sha(saved[k]) for k in sorted(saved.files)},
    }


def _long_test_clip(folder: Path) -> Path:
    """The first fold-3 clip of the folder lasting over 2 s: several windows."""
    import csv

    with open(folder / "labels.csv") as fh:
        names = [r["file"] for r in csv.DictReader(fh) if r["fold"] == "3"]
    return next(folder / n for n in names if sf.info(folder / n).duration > 2.0)


def test_two_epochs_on_urbansound8k_give_the_pinned_metrics(pinned_run):
    name, out, metrics = pinned_run
    got = _record(metrics, out)
    assert got == PINNED[name]


def test_evaluate_gives_the_run_s_metrics_from_the_checkpoint(pinned_run):
    _, out, metrics = pinned_run
    again = pipeline.evaluate(out, progress=False)
    for key in ("clip_accuracy", "window_accuracy", "macro_f1", "confusion_matrix",
                "per_class_accuracy"):
        assert again[key] == metrics[key], key


def test_predict_gives_the_pinned_probabilities_of_a_plain_run(plain_run, folder):
    _, out, _ = plain_run
    row = inference.predict(out, [_long_test_clip(folder)], progress=False)[0]
    got = {"top3": row["top3"], "windows": row["windows"],
           "timeline": _sha(np.array([w["probabilities"] for w in row["timeline"]]))}
    assert got == PINNED["predict"]


def test_the_estimator_gives_the_pinned_probabilities():
    sr = 8000
    t = np.arange(sr) / sr
    rng = np.random.default_rng(0)
    y = [3, 7] * 5
    x = [(0.5 * np.sin(2 * np.pi * 300.0 * (1 + (label == 7)) * t)
          + 0.05 * rng.normal(size=t.size)).astype(np.float32) for label in y]
    est = SoundClassifier("quick", sr=sr, filters=[4, 4, 8, 8], epochs=2, batch_size=16, jobs=1,
                          precision="fp32").fit(x, y)
    proba = est.predict_proba(x)
    got = {"dtype": str(proba.dtype), "row_0": proba[0].tolist(), "sha256": _sha(proba)}
    assert got == PINNED["estimator"]


# -- the earlier format: a fused unit written before the predictor -----------------------------

def _fixture_predictor(folder: Path = FIXTURE, state: dict | None = None) -> SoundPredictor:
    state = load_checkpoint(folder / "checkpoint.pt") if state is None else state
    saved = model_from_state(state, "audio", network_from_state, folder / "checkpoint.pt")
    return SoundPredictor.from_saved(saved)


def _same(a, b):
    """Equal nested metadata: dicts, lists, numbers, strings and tensors (equal values)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    return type(a) is type(b) and a == b


def test_a_unit_of_the_earlier_format_gives_its_stored_probabilities():
    expected = np.load(FIXTURE / "expected.npz")
    predictor = _fixture_predictor()
    assert (predictor.class_names, predictor.fold, predictor.forest_weight) == \
        (("high", "low"), 3, 0.5)
    assert predictor.input_shape == (2, 8, 9) and predictor.aggregate == "mean"
    scores = predictor.scores(expected["x"], expected["window_ids"], mfcc=expected["mfcc"])
    assert np.array_equal(scores.window_proba, expected["window_proba"])
    assert np.array_equal(scores.window_ids, expected["window_ids"])
    assert np.array_equal(scores.clip_ids, expected["clip_ids"])
    assert np.array_equal(scores.network_proba.astype(np.float32), expected["cnn_proba"])
    assert np.array_equal(scores.forest_proba, expected["forest_proba"])
    assert np.array_equal(scores.proba, expected["proba"])
    proba, ids = predictor.proba(expected["x"], expected["window_ids"],
                                 mfcc=lambda clips: expected["mfcc"])
    assert np.array_equal(proba, expected["proba"]) and np.array_equal(ids, expected["clip_ids"])
    assert np.array_equal(predictor.mix(scores.network_proba, scores.forest_proba), proba)


def test_to_state_writes_back_the_metadata_with_the_forest_it_found():
    state = load_checkpoint(FIXTURE / "checkpoint.pt")
    predictor = _fixture_predictor(state=state)
    written = predictor.to_state()
    fusion = written.pop("fusion")
    assert _same(written, state["metadata"])
    with np.load(FIXTURE / "baseline_mix.npz") as stored:
        assert np.array_equal(fusion["features"].numpy(), stored["features"])
        assert np.array_equal(fusion["labels"].numpy(), stored["labels"])
    assert (fusion["weight"], fusion["seed"]) == (0.5, 0)
    again = SoundPredictor.from_state(predictor.to_state(), lambda _: predictor.model)
    assert _same(again.to_state(), predictor.to_state())
    expected = np.load(FIXTURE / "expected.npz")
    assert np.array_equal(again.proba(expected["x"], expected["window_ids"],
                                      mfcc=expected["mfcc"])[0], expected["proba"])


def test_the_checkpoint_alone_of_the_earlier_format_is_the_network_alone():
    state = load_checkpoint(FIXTURE / "checkpoint.pt")
    predictor = SoundPredictor.from_state(state["metadata"])  # no folder: no forest
    assert predictor.forest is None and predictor.to_state()["fusion"] is None
    trained = _fixture_predictor().with_forest(None)
    expected = np.load(FIXTURE / "expected.npz")
    proba, _ = trained.proba(expected["x"], expected["window_ids"])
    assert np.array_equal(proba.astype(np.float32), expected["cnn_proba"])
    with pytest.raises(DataError, match="this model has no MFCC random forest"):
        trained.forest_proba(expected["mfcc"])


def test_a_unit_of_the_earlier_format_without_its_metrics_is_refused(tmp_path):
    for name in ("checkpoint.pt", "checkpoint.pt.sha256", "baseline_mix.npz"):
        shutil.copyfile(FIXTURE / name, tmp_path / name)
    with pytest.raises(DataNotFoundError, match=r"metrics.json: missing; it records the weight "
                                                r"of the forest in baseline_mix.npz"):
        _fixture_predictor(tmp_path)


def test_bad_inputs_are_refused():
    predictor = _fixture_predictor()
    expected = np.load(FIXTURE / "expected.npz")
    with pytest.raises(DataError, match=r"^windows must have shape \(n, 2, 8, 9\), got "
                                        r"\(3, 2, 8, 10\)$"):
        predictor.window_proba(np.zeros((3, 2, 8, 10), np.float32))
    with pytest.raises(DataError, match="this model fuses the MFCC random forest: pass mfcc"):
        predictor.scores(expected["x"], expected["window_ids"])
    with pytest.raises(ConfigError, match="^forest and forest_weight go together"):
        predictor.with_forest(predictor.forest)
    with pytest.raises(ConfigError, match="^aggregate must be one of 'mean', 'vote', got 'max'$"):
        SoundPredictor.from_state(load_checkpoint(FIXTURE / "checkpoint.pt")["metadata"]
                                  | {"aggregate": "max"})


def test_the_export_fields_say_the_forest_is_not_exported():
    fields = _fixture_predictor().export_fields()
    assert fields["fusion"]["weight"] == 0.5 and fields["fusion"]["exported"] is False
    assert fields["preprocessing"]["mean"] == \
        load_checkpoint(FIXTURE / "checkpoint.pt")["metadata"]["standardizer"]["mean"]
    assert "fusion" not in _fixture_predictor().with_forest(None).export_fields()


# -- the consumers of a run trained today ------------------------------------------------------

def test_the_run_s_checkpoint_holds_its_predictor_s_state(pinned_run):
    name, out, _ = pinned_run
    state = load_checkpoint(out / "fold_3" / "seed_0" / "checkpoint.pt")
    predictor = inference.load_run_predictor(out)
    assert _same(predictor.to_state(), state["metadata"])
    assert (predictor.forest is None) == (name == "plain")
    assert predictor.forest_weight == (None if name == "plain" else 0.5)
    assert not (out / "fold_3" / "seed_0" / "baseline_mix.npz").exists()


def test_predict_of_a_fused_run_mixes_the_forest_as_its_test_scores(fused_run, folder):
    _, out, _ = fused_run
    split = json.loads((out / "fold_3" / "seed_0" / "split.json").read_text())
    saved = np.load(out / "fold_3" / "seed_0" / "predictions.npz")
    ids = saved["clip_ids"][:4]
    rows = inference.predict(out, [folder / split["clip_names"][i] for i in ids], progress=False)
    predictor = inference.load_run_predictor(out)
    for row, want in zip(rows, saved["clip_probs"][:4], strict=True):
        got = dict(row["top3"])
        top = np.argsort(-want)[:3]
        assert [predictor.class_names[k] for k in top] == [n for n, _ in row["top3"]]
        np.testing.assert_allclose([got[predictor.class_names[k]] for k in top], want[top],
                                   rtol=0, atol=1e-6)


def test_export_of_a_fused_run_writes_the_network_alone_and_says_so(pinned_run, tmp_path):
    name, out, _ = pinned_run
    path = export_run(out, tmp_path / "model.pt", format="torchscript")
    side = json.loads(sidecar_path(path).read_text())
    assert side["input"]["shape"] == ["batch", 2, 64, 41] and side["fold"] == 3
    if name == "plain":
        assert "fusion" not in side
    else:
        assert side["fusion"]["weight"] == 0.5 and side["fusion"]["exported"] is False
