"""Pool workers exit when the process that started them is killed (SIGKILL or SIGTERM)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_and_wait(parent: subprocess.Popen, workers: list[int], sig: int) -> list[int]:
    os.kill(parent.pid, sig)
    parent.wait(timeout=30)
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    return [w for w in workers if _alive(w)]


def _start_and_find_workers(args: list[str], n: int, env=None) -> tuple[subprocess.Popen, list]:
    parent = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    deadline = time.time() + 60
    workers: list[int] = []
    while time.time() < deadline and len(workers) < n:
        # spawned pools also start a resource tracker: keep the ones running our code
        workers = [c for c in _children(parent.pid)
                   if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]
        time.sleep(0.2)
    assert len(workers) >= n, "the pool did not start"
    return parent, workers


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_pool_workers_exit_with_their_parent(sig):
    script = textwrap.dedent("""
        import time
        from concurrent.futures import ProcessPoolExecutor
        from spectranet.engine.workers import exit_with_parent
        if __name__ == "__main__":
            with ProcessPoolExecutor(2, initializer=exit_with_parent) as pool:
                list(pool.map(time.sleep, [60, 60]))
    """)
    parent, workers = _start_and_find_workers([sys.executable, "-c", script], 2)
    assert _kill_and_wait(parent, workers, sig) == []


def test_killed_feature_extraction_leaves_no_worker(data_root, tmp_path):
    env = os.environ | {"SPECTRANET_DATA": str(data_root), "SPECTRANET_CACHE": str(tmp_path)}
    parent, workers = _start_and_find_workers(
        [sys.executable, "-m", "spectranet", "audio", "features", "--dataset", "urbansound8k",
         "--jobs", "2", "--no-progress"], 2, env=env)
    assert _kill_and_wait(parent, workers, signal.SIGTERM) == []
