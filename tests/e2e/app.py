"""Hookboard started exactly as the README starts it (`bash scripts/run.sh`), on free
ports with a Redis of its own, and the Chromium the browser tests drive."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from tests.support.processes import PROJECT_ROOT, free_port, hookboard_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_SECONDS = 600  # a cold frontend build
SCREENSHOTS = Path(os.environ.get("HOOKBOARD_SCREENSHOTS", PROJECT_ROOT / "docs" / "screenshots"))
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def start_app(data_dir: Path, **settings: str) -> tuple[subprocess.Popen, str, list[str]]:
    """`bash scripts/run.sh` on free ports; returns once it prints 'ready at'."""
    port, redis_port = free_port(), free_port()
    defaults = {
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        # Nothing answers there, so the launcher starts a Redis of its own.
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ALLOW_PRIVATE_TARGETS": "true",
        "TICKER_MAX_IDLE_SECONDS": "1",
        "RATE_LIMIT_PER_MINUTE": "0",
        "USER_RATE_LIMIT_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
    }
    env = hookboard_env(**{**defaults, **settings})
    if "DATABASE_URL" not in settings:
        env.pop("DATABASE_URL", None)  # the fresh SQLite file in DATA_DIR
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "ready at" in line:
            _drain(process, output)
            return process, f"http://127.0.0.1:{port}", output
    stop_app(process)
    raise RuntimeError("Hookboard did not start:\n" + "".join(output[-40:]))


def _drain(process: subprocess.Popen, output: list[str]) -> None:
    """Keep reading the app's output (the latest lines kept), so a full pipe never blocks it."""
    tail: deque[str] = deque(output, maxlen=200)

    def read() -> None:
        for line in process.stdout:
            tail.append(line)

    threading.Thread(target=read, name="hookboard-output", daemon=True).start()


def stop_app(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # the launcher stops everything it started
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
