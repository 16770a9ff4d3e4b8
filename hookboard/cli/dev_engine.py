"""`reflex run` (development) runs a ticker and a worker beside the backend.

A Reflex developer expects `reflex run` to bring up the whole app, and a
dashboard without an engine never delivers. So in development the backend's
lifespan starts `python -m hookboard ticker` and `... worker` and stops them
when it ends: a hot reload restarts them with the backend (and with any engine
code that changed, never two pairs at once), Ctrl-C stops them. They are in
a process group of their own, so only the backend stops them, once; on Linux
they also die with the backend if it is killed.

Production (`--env prod`) starts nothing here: the launcher behind
`scripts/run.sh`, or a deployment, runs tickers and workers as processes of
their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

from reflex.utils.exec import is_prod_mode
from reflex_base.plugins import Plugin

from hookboard.cli.launcher import say, without_password
from hookboard.cli.local_redis import answers
from hookboard.core.migrate import PROJECT_ROOT
from hookboard.settings import SettingsError, get_settings

ROLES = ("ticker", "worker")
STOP_WAIT_SECONDS = 1.5  # Granian gives a reloading worker 2 s (reflex/utils/exec.py)
_PR_SET_PDEATHSIG = 1


class DevEngine(Plugin):
    """Named in rxconfig.py's plugins; registers the engine with the backend."""

    def post_compile(self, **context) -> None:
        app = context["app"]
        if is_prod_mode() or engine_beside_backend in app.get_lifespan_tasks():
            return
        app.register_lifespan_task(engine_beside_backend)


@contextlib.asynccontextmanager
async def engine_beside_backend() -> AsyncIterator[None]:
    processes = _start_engine()
    try:
        yield
    finally:
        await asyncio.to_thread(_stop, processes)


def _start_engine() -> list[subprocess.Popen]:
    try:
        redis_url = get_settings().redis_url
    except SettingsError as error:
        say(f"ticker and worker not started: {error}")
        return []
    if not answers(redis_url):
        say(
            f"ticker and worker not started: no Redis answers at {without_password(redis_url)} "
            "(REDIS_URL); start one, e.g. `redis-server`, then save a file to reload"
        )
        return []
    say("starting a ticker and a worker beside the development backend")
    return [_spawn(role) for role in ROLES]


def _spawn(role: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hookboard", role],
        cwd=PROJECT_ROOT,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the backend process dies (Linux)."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM (a graceful stop) and a short wait: the backend server kills a
    worker that takes 2 s to stop, so whatever is still finishing gets its
    second SIGTERM from _die_with_parent (RQ's cold shutdown; the ticker
    re-queues a run whose lease runs out)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.01, deadline - time.monotonic()))
