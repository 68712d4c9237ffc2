"""Export of real runs to ONNX and TorchScript, checked against PyTorch on real inputs.

Each run is trained tiny here (one epoch) on real data: Indian Pines and a dozen UrbanSound8K
clips. The exported files are run with onnxruntime and ``torch.jit.load`` on inputs computed the
way a user without spectranet would: the HSI cube reduced with numpy from the sidecar's numbers
only, the sound windows computed with librosa from the sidecar's settings. Those inputs are
compared with spectranet's own, and the outputs with the PyTorch model's.

Tolerances. Inputs: the user's float64 PCA and spectranet's (sklearn's) differ in summation
order only, i.e. by float32 rounding after the cast (~1e-7 relative; 1e-5 allowed); the librosa
windows are the same operations as spectranet's (1e-4 allowed in standardised units, ~N(0, 1)).
Logits: two float32 runtimes sum in different orders; a logit accumulates at most a few thousand
products, so differences stay ~1e-6 of the logits' magnitude, and ``_close`` allows 1e-4 of it.
A wrong weight, transpose or preprocessing step moves logits by 1e-1 or more. Arg-max must agree
wherever PyTorch's two best logits are further apart than that tolerance.
"""

import functools
import json
import re
import sys
import warnings
from pathlib import Path

import librosa
import numpy as np
import onnxruntime as ort
import pytest
import scipy.io
import torch
from threadpoolctl import threadpool_limits

from spectranet.audio.decoding import load_audio
from spectranet.audio.features import FeatureSettings, clip_features
from spectranet.audio.inference import model_from_checkpoint
from spectranet.audio.scaling import Standardizer
from spectranet.config import make_config
from spectranet.engine.checkpoints import load_best_checkpoint
from spectranet.engine.export import MissingDependencyError
from spectranet.errors import ConfigError, DataError, DataNotFoundError, SpectranetError
from spectranet.export import export_run, sidecar_path
from spectranet.hsi.inference import load_run_model
from spectranet.hsi.patches import PatchDataset

# librosa.load imports audioread, which imports modules deprecated in Python 3.13
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:audioread.*")

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}
SOUND_CLASSES = ("car_horn", "dog_bark", "siren")  # car horns are often shorter than a window
PER_FOLD = {1: 2, 2: 1, 3: 1}  # clips per class: folds 1 and 2 train, fold 3 tests
DOC = Path(__file__).resolve().parents[1] / "docs" / "export.md"


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One torch and one BLAS thread: the machine's cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def hsi_run(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("runs") / "ip"
    config = make_config("hsi", "quick", scene="indian_pines", epochs=1, window=9, seeds=[0])
    from spectranet.hsi import pipeline

    pipeline.train(config, out, root=data_root, progress=False)
    return out


@pytest.fixture(scope="module")
def sound_clips(tmp_path_factory, us8k_folder) -> Path:
    """A user folder (audio files + labels.csv) of 12 real UrbanSound8K clips."""
    return us8k_folder(tmp_path_factory.mktemp("us8k_export"), PER_FOLD, classes=SOUND_CLASSES)


@pytest.fixture(scope="module")
def sound_run(sound_clips, tmp_path_factory):
    from spectranet.audio import pipeline

    mp = pytest.MonkeyPatch()
    mp.setenv("SPECTRANET_CACHE", str(tmp_path_factory.mktemp("cache")))
    out = tmp_path_factory.mktemp("runs") / "sound"
    config = make_config("audio", "quick", dataset=str(sound_clips), folds=[3], jobs=1,
                         epochs=1, filters=[4, 4, 8, 8])
    pipeline.train(config, out, progress=False)
    yield out
    mp.undo()


def _run_exported(path: Path, x: np.ndarray) -> np.ndarray:
    """Logits of an exported file, run without spectranet (onnxruntime / torch.jit)."""
    if path.suffix == ".onnx":
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return session.run(["logits"], {"input": x})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load: deprecated upstream
        model = torch.jit.load(str(path))
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def _close(got: np.ndarray, want: np.ndarray) -> None:
    """Logits equal to 1e-4 of their magnitude; same arg-max wherever the top two are apart."""
    tol = 1e-4 * max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    top2 = np.sort(want, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 2 * tol
    assert decided.mean() > 0.95
    np.testing.assert_array_equal(got.argmax(1)[decided], want.argmax(1)[decided])


def _reduce_with_sidecar(cube: np.ndarray, p: dict) -> np.ndarray:
    """The run's PCA and scaling from the sidecar's numbers, numpy only: (H, W, components)."""
    h, w, bands = cube.shape
    x = cube.reshape(-1, bands).astype(np.float64)
    if p.get("unit_norm"):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    z = (x - np.asarray(p["pca_mean"])) @ np.asarray(p["pca_components"]).T
    z = (z - np.asarray(p["scale_mean"])) / np.asarray(p["scale_std"])
    return z.astype(np.float32).reshape(h, w, -1)


def _patches_with_sidecar(reduced: np.ndarray, pixels: np.ndarray, p: dict) -> np.ndarray:
    s, m = p["window"], p["window"] // 2
    padded = np.pad(reduced, ((m, m), (m, m), (0, 0)), mode=p["padding"])
    rows, cols = np.divmod(pixels, reduced.shape[1])
    return np.stack([padded[r:r + s, c:c + s].transpose(2, 0, 1)[None]
                     for r, c in zip(rows, cols, strict=True)])


def _ip_cube(data_root: Path) -> np.ndarray:
    mat = data_root / "hsi" / "indian_pines" / "Indian_pines_corrected.mat"
    return scipy.io.loadmat(mat)["indian_pines_corrected"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_hsi_export_matches_pytorch_on_real_patches(hsi_run, data_root, tmp_path, fmt):
    out = export_run(hsi_run, tmp_path / f"ip{FORMATS[fmt]}", format=fmt)
    side = json.loads(sidecar_path(out).read_text())
    model, meta = load_run_model(hsi_run)
    assert side["domain"] == "hsi" and side["format"] == fmt and side["file"] == out.name
    assert side["input"]["shape"] == ["batch", 1, 20, 9, 9]
    assert side["output"]["kind"] == "logits" and side["output"]["shape"] == ["batch", 16]
    assert side["class_names"] == meta["class_names"] and side["class_ids"] == list(range(1, 17))
    p = side["preprocessing"]
    cube = _ip_cube(data_root)
    assert p["input_bands"] == cube.shape[2] == 200
    # the user's reduction (numpy, sidecar numbers) is the run's own reducer
    reduced = _reduce_with_sidecar(cube, p)
    ours = meta["reducer"].transform(cube)
    np.testing.assert_allclose(reduced, ours, rtol=1e-5, atol=1e-5)
    test = np.asarray(json.loads((hsi_run / "seed_0" / "split.json").read_text())["test"])
    x = _patches_with_sidecar(reduced, test, p)
    reference = PatchDataset(ours, None, test, window=p["window"]).gather(np.arange(test.size))
    np.testing.assert_allclose(x, reference.numpy(), rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        want = model(reference).numpy()
    _close(_run_exported(out, x), want)


def _sound_windows_with_librosa(path: Path, p: dict) -> np.ndarray:
    """(n, 2, n_mels, frames) windows from librosa and the sidecar's settings only."""
    y, _ = librosa.load(path, sr=p["sr"], mono=True, res_type="soxr_hq")
    if len(y) < p["min_samples"]:
        y = np.resize(y, p["min_samples"])  # the run's pad rule, "repeat"
    mel = librosa.feature.melspectrogram(
        y=y, sr=p["sr"], n_fft=p["n_fft"], win_length=p["win_length"],
        hop_length=p["hop_length"], window=p["window"], center=p["center"],
        pad_mode=p["pad_mode"], power=p["power"], n_mels=p["n_mels"], fmin=p["fmin"],
        fmax=p["fmax"], htk=p["htk"], norm=p["norm"])
    logmel = librosa.power_to_db(mel, ref=p["ref"], amin=p["amin"], top_db=p["top_db"])
    logmel = logmel.astype(np.float32)
    delta = librosa.feature.delta(logmel, width=p["delta_width"], order=p["delta_order"],
                                  mode=p["delta_mode"], axis=-1).astype(np.float32)
    features = np.stack([logmel, delta])
    starts = range(0, features.shape[-1] - p["frames"] + 1, p["window_hop"])
    windows = np.stack([features[..., s:s + p["frames"]] for s in starts])
    mean, std = np.asarray(p["mean"])[:, :, None], np.asarray(p["std"])[:, :, None]
    return ((windows - mean) / std).astype(np.float32)


def _spectranet_windows(path: Path, meta: dict) -> np.ndarray:
    settings = FeatureSettings(**meta["features"])
    x = clip_features(load_audio(path, sr=settings.sr), settings=settings)
    return Standardizer.from_dict(meta["standardizer"]).transform(x)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sound_export_matches_pytorch_on_real_clips(sound_run, sound_clips, tmp_path, fmt):
    out = export_run(sound_run, tmp_path / f"us8k{FORMATS[fmt]}", format=fmt)
    side = json.loads(sidecar_path(out).read_text())
    _, state = load_best_checkpoint(sorted(sound_run.glob("fold_*/seed_*/checkpoint.pt")))
    model, meta = model_from_checkpoint(state), state["metadata"]
    assert side["domain"] == "audio" and side["input"]["shape"] == ["batch", 2, 64, 41]
    assert side["class_names"] == list(SOUND_CLASSES) == meta["class_names"]
    p = side["preprocessing"]
    assert (p["sr"], p["n_fft"], p["hop_length"], p["n_mels"], p["frames"]) == \
        (22050, 1024, 512, 64, 41)
    assert np.asarray(p["mean"]).shape == np.asarray(p["std"]).shape == (2, 64)
    clips = sorted(sound_clips.glob("*.flac"))
    assert len(clips) == 12
    ours, theirs = [], []
    for clip in clips:
        x = _sound_windows_with_librosa(clip, p)
        reference = _spectranet_windows(clip, meta)
        np.testing.assert_allclose(x, reference, rtol=0, atol=1e-4, err_msg=clip.name)
        theirs.append(x)
        ours.append(reference)
    assert min(len(x) for x in theirs) == 1  # a car horn shorter than one window, padded
    with torch.no_grad():
        want = model(torch.from_numpy(np.concatenate(ours))).numpy()
    _close(_run_exported(out, np.concatenate(theirs)), want)


def _doc_snippet(name: str) -> str:
    blocks = dict(re.findall(r"<!-- test: (\w+) -->\s*```python\n(.*?)```", DOC.read_text(),
                             re.S))
    return blocks[name]


def _run_doc_snippet(name: str, folder: Path, monkeypatch) -> dict:
    """Run a docs/export.md snippet in ``folder`` (onnxruntime on one thread)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    monkeypatch.setattr(ort, "InferenceSession",
                        functools.partial(ort.InferenceSession, sess_options=options))
    monkeypatch.chdir(folder)
    namespace: dict = {}
    exec(compile(_doc_snippet(name), f"{DOC}:{name}", "exec"), namespace)
    return namespace


def test_doc_sound_snippet_runs_and_agrees(sound_run, sound_clips, tmp_path, monkeypatch):
    export_run(sound_run, tmp_path / "model.onnx")
    clip = next(c for c in sorted(sound_clips.glob("*.flac")) if "-1-" in c.name)  # car horn
    (tmp_path / "recording.wav").symlink_to(clip.resolve())
    ns = _run_doc_snippet("sound", tmp_path, monkeypatch)
    _, state = load_best_checkpoint(sorted(sound_run.glob("fold_*/seed_*/checkpoint.pt")))
    with torch.no_grad():
        x = torch.from_numpy(_spectranet_windows(clip, state["metadata"]))
        want = torch.softmax(model_from_checkpoint(state)(x), dim=1).mean(0).numpy()
    np.testing.assert_allclose(ns["clip"], want, rtol=0, atol=1e-5)


def test_doc_hsi_snippet_runs_and_agrees(hsi_run, data_root, tmp_path, monkeypatch):
    export_run(hsi_run, tmp_path / "model.onnx")
    # a real 40 x 40 corner of the scene, saved as the user's file (the whole map takes longer)
    crop = _ip_cube(data_root)[:40, :40]
    scipy.io.savemat(tmp_path / "Indian_pines_corrected.mat", {"indian_pines_corrected": crop})
    ns = _run_doc_snippet("hsi", tmp_path, monkeypatch)
    model, meta = load_run_model(hsi_run)
    dataset = PatchDataset(meta["reducer"].transform(crop), None, None, window=9)
    with torch.no_grad():
        want = model(dataset.gather(np.arange(len(dataset)))).numpy()
    assert ns["class_map"].shape == (40, 40)
    top2 = np.sort(want, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 1e-3
    assert decided.mean() > 0.95
    np.testing.assert_array_equal(ns["class_map"].ravel()[decided], want.argmax(1)[decided])
    np.testing.assert_array_equal(ns["label_ids"], ns["class_map"] + 1)  # ids 1..16


def test_default_output_is_in_the_run_folder(hsi_run):
    out = export_run(hsi_run, format="torchscript", seed=0)
    assert out == hsi_run / "model.pt" and out.is_file()
    side = json.loads((hsi_run / "model.pt.json").read_text())
    assert side["seed"] == 0 and side["scene"] == "indian_pines" and "opset" not in side
    assert side["check"]["max_abs_diff"] < 1e-4
    out.unlink()
    (hsi_run / "model.pt.json").unlink()


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"format must be one of \['onnx', 'torchscript'\], "
                                          r"got 'tflite'"):
        export_run(tmp_path, tmp_path / "m.tflite", format="tflite")
    assert not _files(tmp_path)


def test_not_a_run_folder_is_refused(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"empty: no such run folder"):
        export_run(tmp_path / "empty", tmp_path / "m.onnx")
    (tmp_path / "grid").mkdir()
    (tmp_path / "grid" / "config.json").write_text('{"experiment": "chen2019"}')
    with pytest.raises(DataError, match=r"config.json: not the configuration of a spectranet run"):
        export_run(tmp_path / "grid", tmp_path / "m.onnx")
    (tmp_path / "grid" / "config.json").write_text("{not json")
    with pytest.raises(DataError, match=r"config.json: not valid JSON"):
        export_run(tmp_path / "grid", tmp_path / "m.onnx")
    assert _files(tmp_path) == {tmp_path / "grid", tmp_path / "grid" / "config.json"}


def test_output_that_is_a_folder_is_refused(hsi_run, tmp_path):
    before = _files(hsi_run)
    (tmp_path / "model.onnx").mkdir()
    for fmt in FORMATS:
        with pytest.raises(ConfigError, match=r"model.onnx: is a folder"):
            export_run(hsi_run, tmp_path / "model.onnx", format=fmt)
    (tmp_path / "m.onnx.json").mkdir()
    with pytest.raises(ConfigError, match=r"m.onnx.json: is a folder"):
        export_run(hsi_run, tmp_path / "m.onnx")
    assert _files(tmp_path) == {tmp_path / "model.onnx", tmp_path / "m.onnx.json"}
    assert _files(hsi_run) == before


def test_missing_seed_and_bad_seed_are_refused(hsi_run, tmp_path):
    with pytest.raises(DataNotFoundError, match=r"no seed_7/checkpoint.pt"):
        export_run(hsi_run, tmp_path / "m.onnx", seed=7)
    with pytest.raises(ConfigError, match=r"seed must be an integer or None, got '0'"):
        export_run(hsi_run, tmp_path / "m.onnx", seed="0")
    assert not _files(tmp_path)


def test_missing_onnx_packages_name_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(MissingDependencyError,
                       match=r"m.onnx: the onnx export needs onnxruntime, not installed; "
                             r"pip install 'spectranet\[export\]'") as info:
        export_run(tmp_path, tmp_path / "m.onnx")
    assert isinstance(info.value, SpectranetError) and isinstance(info.value, ImportError)
    assert not _files(tmp_path)


def _tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.Flatten(),
                               torch.nn.Linear(3 * 4 * 4, 4))


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_model_varies_the_batch_and_reports_the_check(fmt):
    from spectranet.engine.export import export_model

    exported = export_model(_tiny_model(), (2, 6, 6), format=fmt)
    assert exported.max_abs_diff < 1e-5 and (exported.opset is None) == (fmt == "torchscript")
    x = np.random.default_rng(0).standard_normal((7, 2, 6, 6)).astype(np.float32)
    path = Path(f"model{FORMATS[fmt]}")
    runner = {".onnx": "_run_onnx", ".pt": "_run_torchscript"}[path.suffix]
    from spectranet.engine import export as engine_export

    got = getattr(engine_export, runner)(exported.data, x)
    with torch.no_grad():
        want = _tiny_model().eval()(torch.from_numpy(x)).numpy()
    _close(got, want)


def test_export_model_refuses_a_file_that_disagrees(monkeypatch):
    from spectranet.engine import export as engine_export

    real = engine_export._run_torchscript
    monkeypatch.setattr(engine_export, "_run_torchscript", lambda data, x: real(data, x) + 0.1)
    with pytest.raises(SpectranetError, match=r"m.pt: the exported model's logits differ from "
                                              r"PyTorch's by 0.1"):
        engine_export.export_model(_tiny_model(), (2, 6, 6), format="torchscript", name="m.pt")
    with pytest.raises(ConfigError, match=r"input_shape must be positive integers, got \(2, 0\)"):
        engine_export.export_model(_tiny_model(), (2, 0), format="torchscript")
