"""``backend="ray"``: a grid's runs as Ray tasks, on a local Ray and a two-node cluster.

Real Ray on the loopback only; the runs are real (1-6 epochs on a 40 x 40 crop of Indian Pines),
and their metrics must equal the local backend's for the same seeds and thread count.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from spectranet.config import make_config
from spectranet.engine.runs import atomic_write_json
from spectranet.errors import ConfigError
from spectranet.experiments.grid import GridRun, run_grid

if os.environ.get("CI"):  # the test extra installs Ray: CI tests the backend for real
    import ray
else:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")

KEYS = ("name", "status", "error", "overall_accuracy", "average_accuracy", "kappa")


@pytest.fixture(scope="module")
def crop(data_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ip_crop")
    scene = data_root / "hsi" / "indian_pines"
    cube = scipy.io.loadmat(scene / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    gt = scipy.io.loadmat(scene / "Indian_pines_gt.mat")["indian_pines_gt"]
    np.save(folder / "cube.npy", cube[30:70, 30:70].astype(np.float32))
    np.save(folder / "gt.npy", gt[30:70, 30:70].astype(np.int64))
    return folder


def _runs(crop, seeds=(0, 1, 2), epochs=1):
    return [GridRun(f"s{seed}", "hsi", make_config(
        "hsi", "quick", cube=str(crop / "cube.npy"), gt=str(crop / "gt.npy"), epochs=epochs,
        window=9, seeds=[seed]), {"seed": seed}) for seed in seeds]


def _numbers(rows):
    return [([r[k] for k in KEYS], r["metrics"]["confusion_matrix"]) for r in rows]


@pytest.fixture(scope="module")
def local_rows(crop, tmp_path_factory):
    rows = run_grid(_runs(crop), tmp_path_factory.mktemp("local"), threads=1)
    assert [r["status"] for r in rows] == ["done"] * 3
    return rows


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_local_ray_gives_the_local_backends_numbers(crop, local_rows, local_ray, tmp_path):
    rows = run_grid(_runs(crop), tmp_path, backend="ray", cpus_per_run=1, threads=1)
    assert _numbers(rows) == _numbers(local_rows)
    saved = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [r["status"] for r in saved] == ["done"] * 3
    log = (tmp_path / "grid.log").read_text()
    assert "Ray: 1 node(s), 2 CPUs, 0 GPUs" in log
    assert ray.is_initialized()  # the caller's Ray was used, and left running


def test_a_two_node_cluster_gives_the_local_backends_numbers(crop, local_rows, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        rows = run_grid(_runs(crop), tmp_path, backend="ray", cpus_per_run=1, threads=1)
        assert _numbers(rows) == _numbers(local_rows)
        assert "2 node(s), 2 CPUs" in (tmp_path / "grid.log").read_text()
    finally:
        ray.shutdown()
        cluster.shutdown()


def kill_after_first_epoch(config, folder, root):
    """Runner: the real HSI training, whose worker kills itself (SIGKILL, by its own PID) once
    the second epoch is logged (the first epoch's checkpoint is complete), first attempt only."""
    from spectranet.hsi.pipeline import train

    attempts = Path(folder).parent.parent / f"{Path(folder).name}.attempts"
    n = int(attempts.read_text()) + 1 if attempts.is_file() else 1
    attempts.write_text(str(n))
    if n == 1:
        log = Path(folder) / "seed_0" / "run.log"

        def kill_when_checkpointed():
            while not (log.is_file() and "epoch 2/" in log.read_text()):
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=kill_when_checkpointed, daemon=True).start()
    return train(config, folder, root=root, progress=False)


def test_a_killed_worker_is_retried_and_resumes_from_its_checkpoint(crop, local_ray, tmp_path):
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    runs = _runs(crop, seeds=(0,), epochs=6)
    uninterrupted = run_grid(runs, tmp_path / "local", threads=1)
    rows = run_grid(runs, tmp_path / "ray", backend="ray", threads=1,
                    runner=kill_after_first_epoch, retries=1)
    assert (tmp_path / "ray" / "s0.attempts").read_text() == "2"  # killed once, then again
    assert "resuming from epoch" in (tmp_path / "ray" / "runs/s0/seed_0/run.log").read_text()
    assert _numbers(rows) == _numbers(uninterrupted)


def test_no_cluster_at_the_address_is_refused_before_anything_is_written(crop, tmp_path,
                                                                        monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError, match="--address auto: no Ray cluster to connect to "
                                          r"\(ConnectionError: Could not find any running Ray"):
        run_grid(_runs(crop), tmp_path / "g", backend="ray", address="auto")
    assert not (tmp_path / "g").exists()
    assert not ray.is_initialized()


def test_ray_refuses_jobs_and_bad_resources(crop, tmp_path):
    with pytest.raises(ConfigError, match="--jobs 2 applies to --backend local"):
        run_grid(_runs(crop), tmp_path / "a", backend="ray", jobs=2)
    with pytest.raises(ConfigError, match="gpus_per_run must be a number >= 0, got -1"):
        run_grid(_runs(crop), tmp_path / "b", backend="ray", gpus_per_run=-1)
    with pytest.raises(ConfigError, match="retries must be an integer >= 0, got 1.5"):
        run_grid(_runs(crop), tmp_path / "e", backend="ray", retries=1.5)
    with pytest.raises(ConfigError, match="backend must be one of .*'local', 'ray'.*got 'dask'"):
        run_grid(_runs(crop), tmp_path / "c", backend="dask")
    cuda = [GridRun("g", "hsi", {"name": "g", "device": "cuda"})]
    with pytest.raises(ConfigError, match="--device cuda with --backend ray needs --gpus-per-run"):
        run_grid(cuda, tmp_path / "d", backend="ray", runner=finish_quickly)
    assert not any(tmp_path.iterdir())


def _can_unshare_mounts():
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True)
    return shutil.which("unshare") is not None and probe.returncode == 0


@pytest.mark.skipif(shutil.which("unshare") is None or not _can_unshare_mounts(),
                    reason="needs unshare -m (a mount namespace) to hide a folder from a node")
def test_a_node_that_cannot_see_the_grid_folder_fails_its_run_naming_node_and_path(crop,
                                                                                   tmp_path):
    from ray.cluster_utils import Cluster

    grid = tmp_path / "grid"
    grid.mkdir()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    # a second node whose processes see an empty file system at the grid's path, as a machine
    # that does not mount the shared folder
    ray_cli = Path(sys.executable).parent / "ray"
    node = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount -t tmpfs none {grid} && exec {ray_cli} start --address={cluster.address} "
         "--num-cpus=1 --block"], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        deadline = time.monotonic() + 120
        while sum(n["Alive"] for n in ray.nodes()) < 2:
            assert time.monotonic() < deadline, "the second node never joined"
            time.sleep(0.5)
        rows = run_grid(_runs(crop, seeds=(0, 1)), grid, backend="ray", cpus_per_run=1,
                        threads=1)
        assert sorted(r["status"] for r in rows) == ["done", "failed"]
        (failed,) = [r for r in rows if r["status"] == "failed"]
        assert re.fullmatch(
            rf"node \S+ \(\S+, node [0-9a-f]{{8}}\) cannot see {re.escape(str(grid))}/grid.json: "
            "the grid folder must be on storage that every node mounts at the same path",
            failed["error"])
        error = json.loads((grid / "runs" / failed["name"] / "error.json").read_text())
        assert error["error"] == failed["error"]
        assert not (grid / "runs" / failed["name"] / "metrics.json").exists()
    finally:
        ray.shutdown()
        os.killpg(node.pid, signal.SIGTERM)
        node.wait(timeout=60)
        cluster.shutdown()


DRIVER = """
import os, sys, time
from pathlib import Path
from spectranet.engine.runs import atomic_write_json
from spectranet.experiments.grid import GridRun, run_grid

def runner(config, folder, root):
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "pid").write_text(str(os.getpid()))
    if config["name"] != "fast":
        time.sleep(600)
    atomic_write_json(Path(folder) / "metrics.json", {"overall_accuracy": 1.0})
    return {}

runs = [GridRun(n, "hsi", {"name": n}) for n in ("fast", "slow1", "slow2")]
run_grid(runs, sys.argv[1], backend="ray", runner=runner, cpus_per_run=0.5, threads=1)
"""


def finish_quickly(config, folder, root):
    atomic_write_json(Path(folder) / "metrics.json", {"overall_accuracy": 0.5})
    return {}


def _gone(pid, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow  # ~30 s: Ray's tests in CI stay near 2 minutes
def test_ctrl_c_cancels_the_running_tasks_and_keeps_finished_runs(tmp_path):
    grid = tmp_path / "grid"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(grid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not ((grid / "runs/fast/metrics.json").is_file()
                   and (grid / "runs/slow1/pid").is_file()):
            assert time.monotonic() < deadline and driver.poll() is None, "the grid never ran"
            time.sleep(0.2)
        finished = (grid / "runs/fast/metrics.json").stat().st_mtime_ns
        driver.send_signal(signal.SIGINT)
        assert driver.wait(timeout=120) != 0
    finally:
        if driver.poll() is None:
            driver.kill()
    assert _gone(int((grid / "runs/slow1/pid").read_text()))  # its task was cancelled
    assert "run(s) cancelled; finished runs are kept" in (grid / "grid.log").read_text()
    saved = {r["name"]: r["status"]
             for r in json.loads((grid / "results.json").read_text())["runs"]}
    assert saved["fast"] == "done" and saved["slow1"] == "pending"

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        runs = [GridRun(n, "hsi", {"name": n}) for n in ("fast", "slow1", "slow2")]
        rows = run_grid(runs, grid, backend="ray", runner=finish_quickly, cpus_per_run=0.5)
    finally:
        ray.shutdown()
    assert [r["status"] for r in rows] == ["done"] * 3
    assert (grid / "runs/fast/metrics.json").stat().st_mtime_ns == finished  # not run again
    assert [r["overall_accuracy"] for r in rows] == [1.0, 0.5, 0.5]


def test_the_command_line_trains_a_grid_on_ray(crop, tmp_path, monkeypatch, capsys):
    from spectranet.cli import main
    from spectranet.experiments import ahmad2020

    # the command's own path (options -> run_experiment -> run_grid) on a grid of two crop runs
    monkeypatch.setattr(ahmad2020, "build_runs", lambda name, scale, root=None: (
        _runs(crop, seeds=(0, 1)), []))
    monkeypatch.setattr(ahmad2020, "write_report", lambda name, scale, out, rows, skipped,
                        root=None: out / "results.json")
    out = tmp_path / "g"
    assert main(["experiment", "ahmad2020", "table3", "--backend", "ray", "--cpus-per-run", "1",
                 "--retries", "0", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"report: {out / 'results.json'}\n"
    saved = json.loads((out / "results.json").read_text())["runs"]
    assert [(r["name"], r["status"]) for r in saved] == [("s0", "done"), ("s1", "done")]
    log = (out / "grid.log").read_text()
    assert "backend ray, threads 1" in log and "queued s0 (Ray task, 1 CPU, 0 GPU)" in log
    assert not ray.is_initialized()  # the command's own Ray was stopped
