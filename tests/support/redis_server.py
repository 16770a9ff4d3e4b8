"""The tests' Redis: TEST_REDIS_URL, else database 13 of a local server, else a
private server started for the session. Tests only ever FLUSHDB their own
database, never FLUSHALL."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hookboard.cli.local_redis import answers, start_redis

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/13"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def test_redis_url(workdir: Path) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    if answers(url):
        yield url
        return
    port = _free_port()
    process: subprocess.Popen = start_redis(port, workdir, workdir / "redis.log")
    try:
        yield f"redis://127.0.0.1:{port}/13"
    finally:
        process.terminate()
        process.wait(timeout=10)
