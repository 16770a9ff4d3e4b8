"""Serve the FastAPI app alone over real HTTP (granian, Reflex's own server)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.processes import PROJECT_ROOT, free_port, hookboard_env, wait_for_http


@contextmanager
def serve_api(**env: str) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(
        [*args, "hookboard.api.app:create_api"], cwd=PROJECT_ROOT, env=hookboard_env(**env)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", timeout=30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
