"""A grid's runs as Ray tasks, across the nodes of a Ray cluster (``--backend ray``).

Each unfinished run is one Ray task asking for ``cpus`` CPUs and ``gpus`` GPUs; Ray places it on
a node with them free (and narrows ``CUDA_VISIBLE_DEVICES`` to the GPUs it grants). The task
trains the run exactly as the local backend does (:func:`~spectranet.experiments.grid.execute_run`),
into the same grid folder, which every node must see at the same path:

- before training, the task checks that it sees the grid's ``grid.json``; if not, the run fails
  with one line naming the node and the path (recorded in the run's ``error.json`` by the driver);
- a task whose worker process or node dies is retried up to ``retries`` times and resumes from its
  own checkpoints; a run that raises is recorded (``error.json``) and not retried;
- Ctrl-C on the driver cancels the tasks still queued or running; finished runs stay as they are,
  and rerunning the command finishes the rest.

Ray is optional: :func:`import_ray` names the install command when it is missing.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spectranet.datahome import data_home
from spectranet.engine.runs import atomic_write_json
from spectranet.errors import ConfigError
from spectranet.experiments.gridruns import GridRun, run_dir

__all__ = ["BACKENDS", "RAY_INSTALL", "check_backend", "import_ray", "ray_session",
           "run_on_node", "run_on_ray"]

#: Where a grid's runs train: a process pool here, or Ray tasks across a cluster.
BACKENDS = ("local", "ray")

#: The command that installs the optional Ray backend (pinned in constraints.txt).
RAY_INSTALL = "pip install -c constraints.txt -e '.[ray]'"


def import_ray() -> Any:
    """The ``ray`` module; :class:`ConfigError` naming the install command when it is missing."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--backend ray needs Ray, which is not installed here; install it "
                          f"with: {RAY_INSTALL}") from None
    return ray


def check_backend(backend: str, jobs: int, cpus_per_run: float, gpus_per_run: float,
                   retries: int) -> None:
    """Raise :class:`ConfigError` for a bad backend or per-run resources, or Ray missing."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
    for name, value in (("cpus_per_run", cpus_per_run), ("gpus_per_run", gpus_per_run)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be an integer >= 0, got {retries!r}")
    if backend == "ray":
        if jobs != 1:
            raise ConfigError(f"--jobs {jobs} applies to --backend local; with --backend ray the "
                              "cluster's CPUs and GPUs, with --cpus-per-run and --gpus-per-run, "
                              "decide how many runs train at once")
        if cpus_per_run <= 0:
            raise ConfigError(f"cpus_per_run must be > 0 with --backend ray, got {cpus_per_run!r}")
        import_ray()


def _node() -> str:
    """The node running this task, for messages: host, IP address, start of Ray's node id."""
    import ray

    context = ray.get_runtime_context()
    return (f"{socket.gethostname()} ({ray.util.get_node_ip_address()}, "
            f"node {context.get_node_id()[:8]})")


def run_on_node(run: GridRun, folder: str, root: str | None, threads: int,
                runner: Callable[..., dict[str, Any]] | None, progress: bool,
                grid_json: str) -> dict[str, Any]:
    """A Ray task's body: check the shared grid folder, then train ``run`` as the local backend.

    Returns the run's outcome (see :func:`~spectranet.experiments.grid.execute_run`); a node
    that cannot see ``grid_json`` returns a failure naming the node and the path, with
    ``"unseen": True``, without writing anything.
    """
    from spectranet.experiments.grid import execute_run

    if not os.path.isfile(grid_json):
        return {"status": "failed", "seconds": 0.0, "unseen": True,
                "error": f"node {_node()} cannot see {grid_json}: the grid folder must be on "
                         "storage that every node mounts at the same path"}
    return execute_run(run, Path(folder), root, threads, runner, progress)


def _record_unseen(folder: Path, result: dict[str, Any]) -> None:
    """The driver writes ``error.json`` for a run whose node could not see the grid folder."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "error.json", {
        "status": "failed", "error": result["error"], "traceback": "",
        "date": time.strftime("%Y-%m-%d %H:%M:%S")})


@contextmanager
def ray_session(address: str | None, *, progress: bool = False) -> Iterator[None]:
    """Connect to the Ray cluster at ``address`` for the ``with`` block.

    None starts a local Ray, stopped when the block ends; Ray already initialised in this
    process is used as it is and left running.

    Raises
    ------
    ConfigError
        No Ray cluster answers at ``address``.
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=progress)
        except (Exception, SystemExit) as exc:  # Ray exits the process when it gives up
            raise ConfigError(f"--address {address}: no Ray cluster to connect to "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def run_on_ray(todo: Sequence[GridRun], out: Path, *, root: str | Path | None, threads: int,
               runner: Callable[..., dict[str, Any]] | None, progress: bool,
               cpus: float, gpus: float, retries: int, note: Callable[[str], None],
               finish: Callable[[int, GridRun, dict[str, Any]], None]) -> None:
    """Train ``todo`` as Ray tasks (inside a :func:`ray_session`).

    ``finish(i, run, outcome)`` is called as each one ends.

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C: the tasks not finished are cancelled first.
    """
    import ray

    nodes = sum(1 for n in ray.nodes() if n["Alive"])
    free = ray.cluster_resources()
    note(f"Ray: {nodes} node(s), {free.get('CPU', 0):g} CPUs, {free.get('GPU', 0):g} GPUs")
    task = ray.remote(run_on_node).options(num_cpus=cpus, num_gpus=gpus,
                                           max_retries=retries, retry_exceptions=False)
    grid_json = str((out / "grid.json").resolve())
    root = str(data_home(root).resolve())  # the driver's, for nodes with another env
    pending = {}
    for run in todo:
        folder = run_dir(out, run.name).resolve()
        pending[task.remote(run, str(folder), root, threads, runner, progress,
                            grid_json)] = run
        note(f"queued {run.name} (Ray task, {cpus:g} CPU, {gpus:g} GPU)")
    done = 0
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                run = pending.pop(ref)
                done += 1
                try:
                    result = ray.get(ref)
                except Exception as exc:  # its worker or node died more than `retries` times
                    result = {"status": "failed", "seconds": 0.0,
                              "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
                if result.pop("unseen", False):
                    _record_unseen(run_dir(out, run.name), result)
                finish(done, run, result)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        note(f"interrupted: {len(pending)} run(s) cancelled; finished runs are kept, "
             "rerun the command to finish the rest")
        raise
