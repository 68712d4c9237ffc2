"""Worker processes that never outlive the process that started them.

A pool's workers block waiting for work; when their parent is killed (SIGKILL, or SIGTERM,
whose default action skips every cleanup) nobody tells them, and they would stay. Each worker
therefore watches its parent from a daemon thread and exits as soon as it is gone.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["exit_with_parent"]


def _watch(parent: int, interval: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)  # the parent is gone: nothing of ours is left to clean up


def exit_with_parent(interval: float = 0.5) -> None:
    """Make this worker exit within ``interval`` seconds of its parent's death.

    Call it in the worker, e.g. as a process pool's ``initializer``.
    """
    thread = threading.Thread(target=_watch, args=(os.getppid(), interval),
                              name="exit-with-parent", daemon=True)
    thread.start()
