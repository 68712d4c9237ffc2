"""The hyperspectral pipeline end to end: real Indian Pines, run folder, resume, predict, errors."""

import json

import numpy as np
import pytest
import scipy.io
import torch

from spectranet.cli import main
from spectranet.config import make_config
from spectranet.errors import ConfigError, DataError
from spectranet.export import export_run, sidecar_path
from spectranet.hsi import inference, pipeline
from spectranet.hsi.reduce import SpectralReducer


@pytest.fixture(scope="module")
def ip_run(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("runs") / "ip"
    config = make_config("hsi", "quick", scene="indian_pines", epochs=2, window=9, seeds=[0])
    metrics = pipeline.train(config, out, root=data_root, progress=False)
    return out, metrics, config


def test_short_training_well_above_chance(ip_run):
    _, metrics, _ = ip_run
    # 16 classes; the largest class holds 24 % of the labelled pixels
    assert metrics["overall_accuracy"] > 0.5
    assert 0 < metrics["kappa"] < 1
    assert len(metrics["per_class_accuracy"]) == 16
    cm = np.asarray(metrics["confusion_matrix"])
    assert cm.shape == (16, 16) and cm.sum() == metrics["n_samples"]


def test_run_folder_contents(ip_run):
    out, metrics, _ = ip_run
    for name in ("config.json", "metrics.json", "report.md", "run.log"):
        assert (out / name).is_file(), name
    seed = out / "seed_0"
    for name in ("split.json", "split.npz", "checkpoint.pt", "metrics.json", "map.npy",
                 "figures/map.png", "figures/curves.png", "figures/confusion_matrix.png",
                 "figures/regions.png"):
        assert (seed / name).is_file(), name
    epochs = json.loads((out / "config.json").read_text())["config"]["epochs"]
    logged = (seed / "run.log").read_text().splitlines()
    assert [m.split(" loss ")[0].split(" ", 2)[2] for m in logged] == [
        f"seed 0: epoch {e}/{epochs}" for e in range(1, epochs + 1)]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["overall_accuracy"] == pytest.approx(metrics["overall_accuracy"])
    report = (out / "report.md").read_text()
    assert "| OA |" in report and "Corn-notill" in report
    # the paper protocol's random split: most test pixels sit inside a training patch
    seed_metrics = json.loads((seed / "metrics.json").read_text())
    leak = seed_metrics["leakage"]
    assert leak["test"] == seed_metrics["split_sizes"]["test"]
    assert leak["test_in_train"] > leak["test"] // 2
    assert "## Leakage check" in report and f"| 0 | {leak['test_in_train']:,} of " in report
    assert "![regions, seed 0](seed_0/figures/regions.png)" in report
    assert seed_metrics["preprocessing_fit"] == "cube"


def test_split_is_paper_protocol_and_disjoint(ip_run, data_root):
    out, _, _ = ip_run
    split = json.loads((out / "seed_0" / "split.json").read_text())
    sets = [set(split[k]) for k in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    gt = scipy.io.loadmat(data_root / "hsi/indian_pines/Indian_pines_gt.mat")["indian_pines_gt"]
    labelled = set(np.flatnonzero(gt.ravel() > 0).tolist())
    assert sets[0] | sets[1] | sets[2] == labelled
    assert len(sets[2]) == pytest.approx(0.3 * len(labelled), abs=16)
    assert len(sets[0]) == pytest.approx(len(sets[1]), abs=16)


def test_map_covers_every_pixel(ip_run):
    out, _, _ = ip_run
    label_map = np.load(out / "seed_0" / "map.npy")
    assert label_map.shape == (145, 145)
    # the scene's own ids (1..16 in Indian_pines_gt.mat), as its label map holds them
    assert set(np.unique(label_map)) <= set(range(1, 17)) and len(np.unique(label_map)) > 8


def test_rerun_skips_finished_seed(ip_run, data_root):
    out, metrics, config = ip_run
    before = (out / "seed_0" / "checkpoint.pt").stat().st_mtime_ns
    again = pipeline.train(config, out, root=data_root, progress=False)
    assert again["overall_accuracy"] == metrics["overall_accuracy"]
    assert (out / "seed_0" / "checkpoint.pt").stat().st_mtime_ns == before


def test_other_config_in_same_folder_is_refused(ip_run, data_root):
    out, _, _ = ip_run
    other = make_config("hsi", "quick", scene="indian_pines", epochs=3, window=9)
    with pytest.raises(ConfigError, match="another configuration"):
        pipeline.train(other, out, root=data_root, progress=False)


def test_evaluate_reproduces_metrics(ip_run, data_root):
    out, metrics, _ = ip_run
    again = inference.evaluate(out, root=data_root, progress=False)
    assert again["overall_accuracy"] == pytest.approx(metrics["overall_accuracy"], abs=1e-6)


def test_predict_new_cube_with_labels(ip_run, data_root, tmp_path):
    out, metrics, _ = ip_run
    cube = data_root / "hsi/indian_pines/Indian_pines_corrected.mat"
    gt = data_root / "hsi/indian_pines/Indian_pines_gt.mat"
    result = inference.predict(out, cube, gt=gt, out=tmp_path / "pred", progress=False)
    assert np.load(tmp_path / "pred" / "map.npy").shape == (145, 145)
    assert (tmp_path / "pred" / "figures" / "map.png").is_file()
    # every labelled pixel, training ones included: at least the test accuracy
    assert result["metrics"]["overall_accuracy"] >= metrics["overall_accuracy"] - 0.05
    ids = np.load(tmp_path / "pred" / "map.npy")
    index = np.load(tmp_path / "pred" / "map_index.npy")
    assert set(np.unique(ids)) <= set(range(1, 17))
    np.testing.assert_array_equal(ids, np.asarray(result["class_ids"])[index])


def test_predict_rejects_wrong_band_count(ip_run, tmp_path):
    out, _, _ = ip_run
    np.save(tmp_path / "c.npy", np.ones((20, 20, 30), np.float32))
    with pytest.raises(DataError, match="expected 200 bands, got 30"):
        inference.predict(out, tmp_path / "c.npy", out=tmp_path / "p", progress=False)
    assert not (tmp_path / "p").exists()


def test_predict_rejects_unknown_label_ids(ip_run, data_root, tmp_path):
    out, _, _ = ip_run
    gt = np.zeros((145, 145), np.int64)
    gt[:5, :5], gt[10:15, 10:15] = 3, 42  # 42 is not an Indian Pines class
    np.save(tmp_path / "gt.npy", gt)
    cube = data_root / "hsi/indian_pines/Indian_pines_corrected.mat"
    with pytest.raises(DataError, match=r"gt.npy: label ids \[42\] are not among the class ids"):
        inference.predict(out, cube, gt=tmp_path / "gt.npy", out=tmp_path / "p", progress=False)
    assert not (tmp_path / "p").exists()


def test_cli_train_and_predict_on_user_files(tmp_path):
    """A user's own cube and label map, through the command line, with a non-contiguous gt."""
    g = np.random.default_rng(0)
    gt = np.zeros((24, 24), np.int64)
    gt[2:12, 2:22] = 3
    gt[13:22, 2:22] = 7
    cube = g.normal(size=(24, 24, 16)).astype(np.float32)
    cube[gt == 3] += 2.0
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)
    (tmp_path / "names.txt").write_text("# id name\n7 bare soil\n3 corn\n")
    out = tmp_path / "run"
    code = main(["hsi", "train", "--cube", str(tmp_path / "cube.npy"), "--gt",
                 str(tmp_path / "gt.npy"), "--class-names", str(tmp_path / "names.txt"),
                 "--preset", "quick", "--window", "9",
                 "--components", "16", "--epochs", "2", "--seeds", "0", "1", "--out", str(out),
                 "--class-weight", "balanced", "--scheduler", "cosine", "--no-progress"])
    assert code == 0
    stored = json.loads((out / "config.json").read_text())["config"]
    assert (stored["class_weight"], stored["scheduler"]) == ("balanced", "cosine")
    report = (out / "report.md").read_text()
    assert "class-balanced loss" in report and "lr 0.001 (cosine schedule)" in report
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["mean"]) >= {"overall_accuracy", "average_accuracy", "kappa"}
    assert [s["seed"] for s in metrics["seeds"]] == [0, 1]
    code = main(["hsi", "predict", str(out), str(tmp_path / "cube.npy"), "--gt",
                 str(tmp_path / "gt.npy"), "--out", str(tmp_path / "pred"), "--no-progress"])
    assert code == 0
    assert set(np.unique(np.load(tmp_path / "pred" / "map.npy"))) <= {3, 7}
    prediction = json.loads((tmp_path / "pred" / "prediction.json").read_text())
    assert prediction["class_ids"] == [3, 7] and prediction["class_names"] == ["corn", "bare soil"]
    assert "| corn |" in (out / "report.md").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--window", "10"], "window must be an odd integer >= 3, got 10"),
    (["--window", "31"], "window must not exceed the scene's smaller side"),
    (["--protocol", "random"], "Invalid value for '--protocol'"),
])
def test_cli_bad_options(tmp_path, capsys, args, message):
    np.save(tmp_path / "cube.npy", np.ones((30, 30, 16), np.float32))
    np.save(tmp_path / "gt.npy", np.repeat(np.arange(1, 4), 300).reshape(30, 30))
    out = tmp_path / "run"
    code = main(["hsi", "train", "--cube", str(tmp_path / "cube.npy"), "--gt",
                 str(tmp_path / "gt.npy"), "--out", str(out), *args])
    assert code != 0
    err = capsys.readouterr().err
    assert message in err
    assert not out.exists()


@pytest.mark.parametrize(("make", "message"), [
    (lambda c, g: (c[:20], g), "spatial sizes (rows, cols) differ"),
    (lambda c, g: (np.where(np.arange(16) == 3, np.nan, c), g), "NaN"),
    (lambda c, g: (c, np.zeros_like(g)), "no labelled pixel"),
    (lambda c, g: (c, np.where(np.arange(900).reshape(30, 30) == 0, 9, g)),
     "class 9 has 1 pixels"),  # one pixel: too small for a stratified split; named by its id
])
def test_cli_bad_data(tmp_path, capsys, make, message):
    cube = np.random.default_rng(0).normal(size=(30, 30, 16)).astype(np.float32)
    gt = np.repeat(np.arange(1, 4), 300).reshape(30, 30)
    cube, gt = make(cube, gt)
    np.save(tmp_path / "cube.npy", cube)
    np.save(tmp_path / "gt.npy", gt)
    out = tmp_path / "run"
    code = main(["hsi", "train", "--cube", str(tmp_path / "cube.npy"), "--gt",
                 str(tmp_path / "gt.npy"), "--window", "9", "--components", "8", "--out",
                 str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not out.exists()


def test_cli_missing_file(tmp_path, capsys):
    code = main(["hsi", "train", "--cube", str(tmp_path / "nope.mat"), "--gt",
                 str(tmp_path / "gt.mat"), "--out", str(tmp_path / "run")])
    assert code == 1
    assert "nope.mat" in capsys.readouterr().err


def test_disjoint_protocol_pca_sees_training_pixels_only(data_root):
    """Under `disjoint`, the reducer is fitted on training pixels only; changing every test
    pixel of the cube leaves the fitted PCA and scaling unchanged."""
    from spectranet.hsi.datasets import load_scene

    scene = load_scene("indian_pines", root=data_root)
    config = make_config("hsi", "paper", scene="indian_pines", protocol="disjoint")
    split = pipeline.make_split(scene.labels, config, seed=0)
    reducer = pipeline._fit_reducer(scene, config, split)
    assert reducer.n_pixels_fit_ == len(split.train)
    tampered = scene.cube.copy().reshape(-1, scene.cube.shape[2])
    tampered[split.test] *= 3.0
    tampered[split.val] += 100.0
    changed = type(scene)(**{**scene.__dict__, "cube": tampered.reshape(scene.cube.shape)})
    other = pipeline._fit_reducer(changed, config, split)
    assert np.allclose(reducer.pca_.components_, other.pca_.components_)
    assert np.allclose(reducer.scaler_.mean_, other.scaler_.mean_)
    # the paper protocol fits on every pixel of the cube, as the paper does
    paper = make_config("hsi", "paper", scene="indian_pines")
    assert pipeline._fit_reducer(scene, paper, split).n_pixels_fit_ == 145 * 145


@pytest.mark.slow
def test_paper_recipe_reaches_the_paper_accuracy(tmp_path, data_root):
    """The paper's recipe (11 x 11 x 20, 50 epochs) on Indian Pines: OA >= 97.75 % (Table IV).

    Minutes on a 2-core CPU, so kept out of CI: ``pytest -m slow``.
    """
    config = make_config("hsi", "paper", scene="indian_pines", seeds=[0])
    metrics = pipeline.train(config, tmp_path / "run", root=data_root, progress=False)
    assert metrics["overall_accuracy"] >= 0.9775
    assert metrics["kappa"] >= 0.97


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cli_predict_on_cuda_without_a_gpu_writes_nothing(ip_run, data_root, tmp_path, capsys):
    out, _, _ = ip_run
    cube = data_root / "hsi/indian_pines/Indian_pines_corrected.mat"
    code = main(["hsi", "predict", str(out), str(cube), "--device", "cuda",
                 "--out", str(tmp_path / "p")])
    assert code == 1 and "error: device 'cuda' is not available" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_make_split_block_and_split_window(data_root):
    """`block` and `split_window` reach the disjoint split: a window-9 model is tested on the
    regions of the window-11 split, leakage-free at its own window too."""
    from spectranet.hsi.disjoint import disjoint_split
    from spectranet.hsi.splits import leakage

    gt = scipy.io.loadmat(data_root / "hsi/indian_pines/Indian_pines_gt.mat")["indian_pines_gt"]
    labels = gt.astype(np.int64) - 1
    config = make_config("hsi", "paper", scene="indian_pines", protocol="disjoint", window=9,
                         split_window=11, block=40)
    split = pipeline.make_split(labels, config, 1)
    ref = disjoint_split(labels, window=11, val_size=0.35, seed=1, block=40)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(split, name), getattr(ref, name))
    report = leakage(split, labels.shape, 9)
    assert report["test_in_train"] == report["test_in_val"] == report["val_in_train"] == 0
    assert split.info["block"] == 40 and split.info["window"] == 11


def test_validation_none_trains_on_the_validation_regions_same_test(data_root):
    """`validation="none"`: the same regions, the validation pixels join training; the test
    pixels are unchanged, no test pixel lies inside any training patch, and PCA and scaling
    are fitted on the enlarged training set."""
    from spectranet.hsi.datasets import load_scene
    from spectranet.hsi.splits import leakage

    scene = load_scene("indian_pines", root=data_root)
    options = {"scene": "indian_pines", "protocol": "disjoint", "window": 9, "split_window": 11,
               "block": 40}
    held = pipeline.make_split(scene.labels, make_config("hsi", "paper", **options), 2)
    config = make_config("hsi", "paper", validation="none", **options)
    merged = pipeline.make_split(scene.labels, config, 2)
    np.testing.assert_array_equal(merged.test, held.test)
    np.testing.assert_array_equal(merged.train, np.union1d(held.train, held.val))
    assert merged.val.size == 0 and merged.info["validation_pixels"] == held.val.size > 0
    assert leakage(merged, scene.labels.shape, 9)["test_in_train"] == 0
    assert pipeline._fit_reducer(scene, config, merged).n_pixels_fit_ == merged.train.size


def _train_three_epochs(tmp_path, user_scene, validation):
    """A 3-epoch quick run on the user scene with ``--validation``: (run folder, metrics)."""
    out = tmp_path / "run"
    code = main(["hsi", "train", "--cube", user_scene["cube"], "--gt", user_scene["gt"],
                 "--preset", "quick", "--window", "9", "--components", "16", "--epochs", "3",
                 "--validation", validation, "--out", str(out), "--no-progress"])
    assert code == 0
    return out, json.loads((out / "metrics.json").read_text())


def test_cli_validation_none_keeps_the_last_epoch(tmp_path, user_scene):
    out, metrics = _train_three_epochs(tmp_path, user_scene, "none")
    assert metrics["best_epoch"] == 3
    assert all(h["val_accuracy"] is None for h in metrics["history"])
    assert metrics["split_sizes"]["val"] == 0
    split = json.loads((out / "seed_0/split.json").read_text())
    assert split["val"] == [] and split["info"]["validation"] == "trained"
    assert "Validation: none" in (out / "report.md").read_text()


def test_cli_validation_monitor_scores_every_epoch_and_keeps_the_last(tmp_path, user_scene):
    out, metrics = _train_three_epochs(tmp_path, user_scene, "monitor")
    assert metrics["best_epoch"] == 3 and metrics["split_sizes"]["val"] > 0
    assert all(h["val_accuracy"] is not None for h in metrics["history"])
    assert "Validation: scored every epoch, the last of 3 epochs kept" in (
        out / "report.md").read_text()


def test_split_seed_none_is_the_run_seed(data_root):
    """Unset, every seed draws its own split exactly as before split_seed existed: the same as
    split_seed = seed, and the class counts of the published line C (same regions)."""
    from pathlib import Path

    from spectranet.hsi.datasets import load_scene

    scene = load_scene("indian_pines", root=data_root)
    options = {"scene": "indian_pines", "protocol": "disjoint", "window": 9, "split_window": 11,
               "block": 40}
    unset = make_config("hsi", "paper", **options)
    line_c = Path(__file__).parents[2] / ("docs/results/indian_pines_disjoint_ablation/lines/"
                                          "C_flips_w9/metrics.json")
    published = {s["seed"]: s for s in json.loads(line_c.read_text())["seeds"]}
    for seed in (0, 1, 2):
        split = pipeline.make_split(scene.labels, unset, seed)
        fixed = pipeline.make_split(scene.labels, make_config("hsi", "paper", split_seed=seed,
                                                              **options), seed)
        labels = scene.labels.ravel()
        for name in ("train", "val", "test"):
            np.testing.assert_array_equal(getattr(split, name), getattr(fixed, name))
            counts = np.bincount(labels[getattr(split, name)], minlength=16).tolist()
            assert counts == published[seed]["class_counts"][name], (seed, name)


def test_split_seed_same_split_other_models(tmp_path, user_scene):
    files = user_scene
    config = make_config("hsi", "quick", window=9, components=16, epochs=1, seeds=[0, 1],
                         split_seed=3, **files)
    out = tmp_path / "run"
    pipeline.train(config, out, progress=False)
    splits = [json.loads((out / f"seed_{s}/split.json").read_text()) for s in (0, 1)]
    for name in ("train", "val", "test"):
        assert splits[0][name] == splits[1][name], name
    labels = pipeline.load_scene_of(config).labels
    own = pipeline.make_split(labels, make_config("hsi", "quick", **files), 3)
    assert splits[0]["test"] == own.test.tolist()  # the split seed 3 draws without split_seed
    states = [torch.load(out / f"seed_{s}/checkpoint.pt", weights_only=True) for s in (0, 1)]
    assert [s["metadata"]["seed"] for s in states] == [0, 1]
    first = next(iter(states[0]["model"]))
    assert not torch.equal(states[0]["model"][first], states[1]["model"][first])
    assert json.loads((out / "config.json").read_text())["config"]["split_seed"] == 3
    assert "split seed 3" in (out / "report.md").read_text()


def test_cli_split_seed_is_checked(tmp_path, capsys, user_scene):
    files = user_scene
    code = main(["hsi", "train", "--cube", files["cube"], "--gt", files["gt"], "--split-seed",
                 "-1", "--out", str(tmp_path / "run")])
    assert code != 0
    assert "split_seed must be an integer >= 0, got -1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_unit_norm_reaches_evaluate_and_predict(tmp_path, user_scene):
    """A run trained with unit_norm keeps it in its reducer: evaluate reproduces the test
    metrics, and predict gives the same map for a cube twice as bright (exact in floats)."""
    files = user_scene
    out = tmp_path / "run"
    code = main(["hsi", "train", "--cube", files["cube"], "--gt", files["gt"], "--preset",
                 "quick", "--window", "9", "--components", "16", "--no-pca", "--unit-norm",
                 "--epochs", "2", "--seeds", "0", "--out", str(out), "--no-progress"])
    assert code == 0
    state = torch.load(out / "seed_0/checkpoint.pt", weights_only=True)
    assert state["metadata"]["reducer"]["params"]["unit_norm"] is True
    assert "spectra divided by their L2 norm" in (out / "report.md").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    again = inference.evaluate(out, progress=False)
    assert again["overall_accuracy"] == pytest.approx(metrics["overall_accuracy"], abs=1e-6)
    np.save(tmp_path / "bright.npy", 2.0 * np.load(files["cube"]))
    maps = []
    for name in ("cube.npy", "bright.npy"):
        inference.predict(out, tmp_path / name, out=tmp_path / f"p_{name}", progress=False)
        maps.append(np.load(tmp_path / f"p_{name}" / "map.npy"))
    np.testing.assert_array_equal(maps[0], maps[1])
    # the export sidecar writes "no PCA" as the identity, so its one formula still holds
    sidecar = json.loads(sidecar_path(export_run(out, tmp_path / "m.pt", format="torchscript"))
                         .read_text())["preprocessing"]
    np.testing.assert_array_equal(sidecar["pca_components"], np.eye(16))
    assert sidecar["pca_mean"] == [0.0] * 16
    cube = np.load(files["cube"]).reshape(-1, 16).astype(np.float64)
    x = cube / np.linalg.norm(cube, axis=1, keepdims=True)
    z = ((x - sidecar["pca_mean"]) @ np.asarray(sidecar["pca_components"]).T
         - sidecar["scale_mean"]) / sidecar["scale_std"]
    reducer = SpectralReducer.from_state(state["metadata"]["reducer"])
    np.testing.assert_allclose(z.reshape(reducer.transform(np.load(files["cube"])).shape),
                               reducer.transform(np.load(files["cube"])), atol=1e-5)


def test_steps_train_a_ten_percent_share_as_many_batches_as_asked(tmp_path, data_root):
    # Indian Pines' 16 classes hold 46, 1428, 830, 237, 483, 730, 28, 478, 20, 972, 2455, 593,
    # 205, 1265, 386 and 93 pixels; 10 % of each, rounded: 5 + 143 + 83 + 24 + 48 + 73 + 3 + 48
    # + 2 + 97 + 246 + 59 + 20 + 126 + 39 + 9 = 1025 training pixels, ceil(1025 / 256) = 5
    # batches an epoch, so 12 steps need ceil(12 / 5) = 3 epochs (15 steps).
    config = make_config("hsi", "quick", scene="indian_pines", train_per_class=0.1, steps=12,
                         window=9, seeds=[0])
    metrics = pipeline.train(config, tmp_path / "run", root=data_root, progress=False)
    assert metrics["split_sizes"]["train"] == 1025
    assert (metrics["epochs"], metrics["steps"], len(metrics["history"])) == (3, 15, 3)
    assert json.loads((tmp_path / "run/config.json").read_text())["config"]["steps"] == 12
    assert "12 optimisation steps (3 epochs)" in (tmp_path / "run/report.md").read_text()


@pytest.mark.parametrize(("drop_last", "epochs", "steps"), [(False, 2, 4), (True, 3, 3)])
def test_drop_last_drops_each_epochs_incomplete_batch(tmp_path, user_scene, drop_last, epochs,
                                                      steps):
    # 50 training pixels per class, 100 in all, batches of 64: 64 + 36, or 64 alone when the
    # last is dropped; 3 steps need ceil(3 / 2) = 2 epochs (4 steps), or 3 epochs of one batch
    config = make_config("hsi", "quick", window=9, components=16, train_per_class=50,
                         batch_size=64, steps=3, drop_last=drop_last, seeds=[0], **user_scene)
    metrics = pipeline.train(config, tmp_path / "run", progress=False)
    assert metrics["split_sizes"]["train"] == 100
    assert (metrics["epochs"], metrics["steps"]) == (epochs, steps)
