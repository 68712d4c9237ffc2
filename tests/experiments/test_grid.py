"""Experiment grids: resume after an interruption, recorded failures, jobs=2 equals jobs=1."""

import json
from pathlib import Path

import numpy as np
import pytest

from spectranet.config import HSIConfig
from spectranet.engine.runs import atomic_write_json
from spectranet.errors import ConfigError, DataNotFoundError
from spectranet.experiments.grid import (
    GridRun,
    collect_results,
    data_fingerprint,
    find_reusable,
    is_finished,
    run_grid,
)

CANNED = {"overall_accuracy": 0.9, "average_accuracy": 0.8, "kappa": 0.85,
          "per_class_accuracy": [0.9, 0.7], "confusion_matrix": [[9, 1], [3, 7]], "seed": 0,
          "train_seconds": 12.0, "epochs": 4, "parameters": 1000, "map_seconds": 1.0}


def _runs(names=("a", "b", "c")):
    return [GridRun(n, "hsi", {"name": n, "epochs": 4}, {"letter": n}) for n in names]


class Flaky:
    """Runner that counts calls per run and raises on run ``b`` the first time."""

    def __init__(self, error=None):
        self.calls: dict[str, int] = {}
        self.error = error or RuntimeError("simulated crash")

    def __call__(self, config, folder, root):
        name = config["name"]
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == "b" and self.calls[name] == 1:
            raise self.error
        atomic_write_json(Path(folder) / "metrics.json", CANNED)
        return CANNED


def test_interrupted_grid_resumes_without_redoing_finished_runs(tmp_path):
    runner = Flaky()
    rows = run_grid(_runs(), tmp_path, runner=runner)
    assert [r["status"] for r in rows] == ["done", "failed", "done"]
    assert "simulated crash" in rows[1]["error"]
    error = json.loads((tmp_path / "runs" / "b" / "error.json").read_text())
    assert error["status"] == "failed" and "RuntimeError" in error["traceback"]
    assert not is_finished(tmp_path, "b")

    rows = run_grid(_runs(), tmp_path, runner=runner)
    assert runner.calls == {"a": 1, "b": 2, "c": 1}  # only the failed run ran again
    assert [r["status"] for r in rows] == ["done"] * 3
    assert not (tmp_path / "runs" / "b" / "error.json").exists()
    assert rows[0]["overall_accuracy"] == 0.9 and rows[0]["seconds_per_epoch"] == 3.0

    run_grid(_runs(), tmp_path, runner=runner)
    assert runner.calls == {"a": 1, "b": 2, "c": 1}  # everything finished: nothing runs


def test_results_written_as_csv_and_json(tmp_path):
    run_grid(_runs(), tmp_path, runner=Flaky())
    lines = (tmp_path / "results.csv").read_text().splitlines()
    assert lines[0].startswith("name,domain,letter,status,error")
    assert len(lines) == 4 and ",failed," in lines[2]
    saved = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert saved[0]["metrics"]["kappa"] == 0.85 and saved[1]["status"] == "failed"
    assert "start a" in (tmp_path / "grid.log").read_text()


def test_missing_data_counts_as_skipped(tmp_path):
    rows = run_grid(_runs(), tmp_path, runner=Flaky(DataNotFoundError("cube.mat is missing")))
    assert rows[1]["status"] == "skipped" and "cube.mat is missing" in rows[1]["error"]
    pending = collect_results(_runs(("a", "z")), tmp_path)
    assert [r["status"] for r in pending] == ["done", "pending"]


@pytest.mark.parametrize("runs, jobs, match", [
    (_runs(("a", "a")), 1, "unique"),
    (_runs(("a/b",)), 1, "run name"),
    ([GridRun("a", "video", {})], 1, "domain must be one of"),
    (_runs(), 0, "jobs must be an integer >= 1"),
])
def test_invalid_grids_are_refused_before_any_work(tmp_path, runs, jobs, match):
    with pytest.raises(ConfigError, match=match):
        run_grid(runs, tmp_path / "out", jobs=jobs, runner=Flaky())
    assert not (tmp_path / "out").exists()


def test_changed_configuration_in_same_folder_is_refused(tmp_path):
    run_grid(_runs(), tmp_path, runner=Flaky())
    changed = [GridRun("a", "hsi", {"name": "a", "epochs": 5})]
    with pytest.raises(ConfigError, match="another configuration"):
        run_grid(changed, tmp_path, runner=Flaky())


def test_identical_finished_runs_are_reused_from_another_grid(tmp_path):
    first = Flaky()
    run_grid(_runs(("a", "b")), tmp_path / "exp1", runner=first)  # b fails there
    (tmp_path / "exp1" / "runs" / "a" / "checkpoint.pt").write_text("weights")
    # "x" has a's configuration under another name; "b" finished nowhere; "c" differs.
    runs = [GridRun("x", "hsi", {"name": "a", "epochs": 4}, {"letter": "x"}),
            GridRun("b", "hsi", {"name": "b", "epochs": 4}),
            GridRun("c", "hsi", {"name": "c", "epochs": 5})]
    second = Flaky(error=None)
    second.calls["b"] = 1  # do not fail again
    rows = run_grid(runs, tmp_path / "exp2", runner=second, reuse=[tmp_path / "exp1"])
    assert second.calls == {"b": 2, "c": 1}  # x was copied, not trained
    copied = tmp_path / "exp2" / "runs" / "x"
    assert (copied / "checkpoint.pt").read_text() == "weights"
    assert json.loads((copied / "reused.json").read_text())["source"].endswith("exp1/runs/a")
    assert rows[0]["status"] == "done" and rows[0]["reused_from"].endswith("exp1/runs/a")
    assert "reused_from" not in rows[2]
    assert "reused x from" in (tmp_path / "exp2" / "grid.log").read_text()
    assert not list((tmp_path / "exp2" / "runs").glob(".*"))  # no temporary folder left


def test_reuse_needs_a_grid_folder(tmp_path):
    with pytest.raises(ConfigError, match="not a grid folder"):
        run_grid(_runs(), tmp_path / "out", runner=Flaky(), reuse=[tmp_path])
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def tiny_scene(tmp_path_factory):
    """A 20 x 20 x 20 cube with three separable classes in blocks, as .npy files."""
    folder = tmp_path_factory.mktemp("scene")
    rng = np.random.default_rng(0)
    gt = np.zeros((20, 20), np.int64)
    gt[2:9, 2:18], gt[11:18, 2:10], gt[11:18, 11:18] = 1, 2, 3
    cube = (3 * rng.normal(size=(4, 20))[gt] + rng.normal(size=(20, 20, 20))).astype(np.float32)
    np.save(folder / "cube.npy", cube)
    np.save(folder / "gt.npy", gt)
    return folder


def _tiny_runs(folder):
    return [GridRun(f"w{w}", "hsi", HSIConfig(
        cube=str(folder / "cube.npy"), gt=str(folder / "gt.npy"), model="he_multiscale",
        components=17, window=w, epochs=1, batch_size=64, precision="fp32"), {"window": w})
        for w in (5, 7)]


def test_two_jobs_give_the_same_results_as_one(tmp_path, tiny_scene):
    runs = _tiny_runs(tiny_scene)
    one = run_grid(runs, tmp_path / "one", jobs=1, threads=1)
    two = run_grid(runs, tmp_path / "two", jobs=2, threads=1)
    keys = ("name", "status", "overall_accuracy", "average_accuracy", "kappa", "parameters")
    assert [r["status"] for r in one] == ["done", "done"]
    assert [[r[k] for k in keys] for r in one] == [[r[k] for k in keys] for r in two]
    for r1, r2 in zip(one, two, strict=True):
        assert r1["metrics"]["confusion_matrix"] == r2["metrics"]["confusion_matrix"]
        split = "runs/{}/seed_0/split.json".format(r1["name"])
        assert (tmp_path / "one" / split).read_text() == (tmp_path / "two" / split).read_text()


def test_a_finished_run_on_changed_data_is_not_finished(tmp_path, tiny_scene):
    scene = tmp_path / "scene"
    scene.mkdir()
    for name in ("cube.npy", "gt.npy"):
        (scene / name).write_bytes((tiny_scene / name).read_bytes())
    runs = _tiny_runs(scene)[:1]
    assert run_grid(runs, tmp_path / "grid", threads=1)[0]["status"] == "done"
    fingerprint = data_fingerprint("hsi", runs[0].config)
    assert is_finished(tmp_path / "grid", "w5", fingerprint)
    gt = np.load(scene / "gt.npy")
    gt[gt == 3] = 2  # relabelled under the same path
    np.save(scene / "gt.npy", gt)
    assert not is_finished(tmp_path / "grid", "w5", data_fingerprint("hsi", runs[0].config))
    (row,) = run_grid(runs, tmp_path / "grid", threads=1)
    assert row["status"] == "failed" and "the input data changed" in row["error"]
    assert not find_reusable(runs[0], [tmp_path / "grid"], data_fingerprint("hsi",
                                                                            runs[0].config))


@pytest.mark.parametrize(("paper", "name", "match"), [
    ("chen2019", "exp1", "dataset 'urbansound8k' not found"),
    ("ahmad2020", "table3", r"ahmad2020 table3: nothing to run \(indian_pines: .* is missing"),
])
def test_experiment_without_data_fails_before_writing(tmp_path, paper, name, match):
    from spectranet.experiments import run_experiment

    with pytest.raises(DataNotFoundError, match=match):
        run_experiment(paper, name, out=tmp_path / "out", root=tmp_path / "empty", progress=False)
    assert not (tmp_path / "out").exists()


class TinyFit:
    """Runner training a small real model for 3 epochs; dies after ``crash_after`` epochs once."""

    def __init__(self, crash_after=None):
        self.crash_after = crash_after

    def __call__(self, config, folder, root):
        from torch import nn

        from spectranet.engine import fit, make_optimizer, seed_everything
        from spectranet.engine.batches import ArrayBatches

        seed_everything(0)
        g = np.random.default_rng(0)
        y = g.integers(0, 2, 64)
        x = (g.normal(size=(64, 3)) + y[:, None]).astype(np.float32)
        crash_after, self.crash_after = self.crash_after, None

        class Dying(ArrayBatches):
            def set_epoch(self, epoch):
                if crash_after is not None and epoch == crash_after:
                    raise RuntimeError("killed")
                super().set_epoch(epoch)

        model = nn.Linear(3, 2)
        fit(model, Dying(x, y, np.arange(64), batch_size=16), None, epochs=3,
            optimizer=make_optimizer(model.parameters(), lr=0.1), desc="seed 0",
            checkpoint_path=Path(folder) / "c.pt", progress=True)
        atomic_write_json(Path(folder) / "metrics.json", CANNED)
        return CANNED


def test_progress_lines_name_the_run_and_its_resumption(tmp_path, capsys):
    runner = TinyFit(crash_after=2)
    run_grid(_runs(("a",)), tmp_path, runner=runner, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert [e.split(" loss ")[0] for e in err] == ["a: seed 0: epoch 1/3", "a: seed 0: epoch 2/3"]
    run_grid(_runs(("a",)), tmp_path, runner=runner, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "a: seed 0: resuming from epoch 2 of 3"
    assert err[1].startswith("a: seed 0: epoch 3/3 loss ")
    run_grid(_runs(("b",)), tmp_path / "quiet", runner=TinyFit(), progress=False)
    assert capsys.readouterr().err == ""
