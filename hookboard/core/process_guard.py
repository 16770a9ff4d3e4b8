"""Children die with their parent (Linux): no orphan after a kill -9.

RQ forks its scheduler into a child process; if the worker is killed with
SIGKILL that child would live on, holding the scheduler lock.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def children_die_with_this_process() -> None:
    if sys.platform.startswith("linux"):
        os.register_at_fork(after_in_child=_die_with_parent)
