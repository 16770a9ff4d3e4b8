"""Run the whole of Hookboard locally: Redis if needed, migrations, web, ticker, worker.

`scripts/run.sh` installs everything, then hands over to this module. It
prints one clear line for a bad setting, a busy port or an unreachable
database, and on Ctrl-C stops every process it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hookboard.cli.local_redis import (
    LOCAL_HOSTS,
    RedisUnavailableError,
    answers,
    start_redis,
)
from hookboard.cli.preflight import (
    PreflightError,
    check_database,
    check_port_free,
    check_redis_url,
)
from hookboard.core.db import make_engine
from hookboard.core.migrate import PROJECT_ROOT, upgrade_to_head
from hookboard.core.private_files import PRIVATE_DIR_MODE, keep_new_files_private, tighten
from hookboard.core.startup import wrong_encryption_key
from hookboard.settings import Settings, SettingsError, get_settings

READY_TIMEOUT_SECONDS = 600  # the first start compiles the frontend


def say(message: str) -> None:
    print(f"hookboard: {message}", flush=True)


def fail(message: str) -> None:
    print(f"hookboard: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


@dataclass
class Stack:
    """The processes this launcher owns, stopped in reverse order."""

    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.processes[name] = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=env, start_new_session=True
        )

    def exited(self) -> tuple[str, int] | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def ensure_redis(settings: Settings, stack: Stack) -> str:
    """REDIS_URL if it answers, else a Redis of our own on the URL's local port."""
    url = settings.redis_url
    if answers(url):
        say(f"using Redis at {without_password(url)}")
        return url
    parts = urlsplit(url)
    port = (parts.port or 6379) if parts.hostname in LOCAL_HOSTS else 6390
    say(f"no Redis answers at {without_password(url)}; starting one on 127.0.0.1:{port}")
    try:
        process = start_redis(port, settings.data_dir / "redis", settings.data_dir / "redis.log")
    except RedisUnavailableError as error:
        fail(f"REDIS_URL: {error}")
    stack.processes["redis"] = process
    database = parts.path.strip("/") or "0"
    return f"redis://127.0.0.1:{port}/{database}"


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def wait_until_ready(port: int, stack: Stack) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    url = f"http://127.0.0.1:{port}/health/ready"
    while time.monotonic() < deadline:
        if (crashed := stack.exited()) is not None:
            fail(f"{crashed[0]} exited with code {crashed[1]} during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    fail(f"the web app did not become ready on port {port}")


def preflight(settings: Settings) -> None:
    try:
        check_redis_url(settings.redis_url)
        check_port_free(settings.port)
        check_database(settings.effective_database_url)
    except PreflightError as error:
        fail(str(error))


def refuse_a_wrong_encryption_key(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        message = wrong_encryption_key(engine, settings)
    finally:
        engine.dispose()
    if message:
        fail(message)


def child_environment(settings: Settings, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        DATABASE_URL=settings.effective_database_url,
        SECRET_KEY=settings.effective_secret_key(),
        TELEMETRY_ENABLED="false",
        REFLEX_USE_SYSTEM_BUN="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def keep_data_private(settings: Settings) -> None:
    """Everything this launcher and its children create (DATA_DIR, the SQLite file, the
    secret key, a local Redis's files, Reflex's .states/) is the owner's only."""
    keep_new_files_private()
    settings.data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    tighten(settings.data_dir, PRIVATE_DIR_MODE)


def main() -> None:
    try:
        settings = get_settings()
    except SettingsError as error:
        fail(str(error))
    keep_data_private(settings)
    preflight(settings)
    stack = Stack()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        redis_url = ensure_redis(settings, stack)
        say("applying database migrations")
        try:
            upgrade_to_head(settings.effective_database_url)
        except Exception as error:
            fail(f"DATABASE_URL: migration failed, database left unchanged ({error})")
        refuse_a_wrong_encryption_key(settings)
        env = child_environment(settings, redis_url)
        python = sys.executable
        say("starting ticker and worker")
        stack.start("ticker", [python, "ticker.py"], env)
        stack.start("worker", [python, "worker.py"], env)
        say("building and starting the web app (the first start compiles the frontend)")
        reflex = [python, "-m", "reflex", "run", "--env", "prod", "--single-port"]
        stack.start("web", [*reflex, "--frontend-port", str(settings.port)], env)
        wait_until_ready(settings.port, stack)
        say(f"ready at http://localhost:{settings.port}  (API docs: /docs; Ctrl-C stops)")
        while (crashed := stack.exited()) is None:
            time.sleep(0.5)
        fail(f"{crashed[0]} exited with code {crashed[1]}; stopping everything")
    except KeyboardInterrupt:
        say("stopping")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
