"""The tests' Redis: TEST_REDIS_URL, else database 13 of a local server, else a
private server started for the session. Tests only ever FLUSHDB their own
database, never FLUSHALL. Under pytest-xdist each worker takes a database of
its own, counting down from that one (gw0 -> 13, gw1 -> 12, ...)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis import Redis

from hookboard.cli.local_redis import answers, start_redis
from tests.support.processes import free_port

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/13"


def worker_index() -> int:
    """0 outside pytest-xdist, N in its worker gwN."""
    return int((os.environ.get("PYTEST_XDIST_WORKER") or "gw0").removeprefix("gw"))


def worker_database(url: str) -> str:
    """`url` with this worker's database number: two workers that FLUSHDB the same
    database would wipe each other's queues mid-test."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - worker_index()
    if database < 0:
        raise RuntimeError(f"no Redis database left below {url} for xdist worker {worker_index()}")
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def test_redis_url(workdir: Path) -> Iterator[str]:
    url = worker_database(os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL))
    if answers(url):
        yield url
        return
    port = free_port()
    process: subprocess.Popen = start_redis(port, workdir, workdir / "redis.log")
    try:
        yield worker_database(f"redis://127.0.0.1:{port}/13")
    finally:
        process.terminate()
        process.wait(timeout=10)


class PrivateRedis:
    """A redis-server of this test's own on a free 127.0.0.1 port, which the test may
    kill and bring back empty. The shared Redis is never touched."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.generation = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.generation += 1
        self.process = start_redis(
            self.port, self.workdir / f"redis-{self.generation}", self.workdir / "redis.log"
        )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart_empty(self) -> None:
        """kill -9, then a new server on the same port: every queued job is gone."""
        self.kill()
        self.start()

    def client(self) -> Redis:
        return Redis.from_url(self.url)
