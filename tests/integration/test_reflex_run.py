"""`reflex run`, the development loop the README names: the hot-reloading
dashboard, the API, a ticker and a worker, all stopped by one Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import psutil
import pytest

from tests.integration.dashboard_session import (
    disk_state_files,
    log_in_through_the_dashboard,
    reflex_state_keys,
)
from tests.support.processes import PROJECT_ROOT, free_port, hookboard_env, run_python

pytestmark = pytest.mark.slow

START_TIMEOUT_SECONDS = 900  # a cold first run installs the frontend's packages and compiles
BACKEND_LINE = re.compile(r"Backend running at: \S*?:(\d+)")
EMAIL, PASSWORD = "dev@example.com", "long enough"


class DevServer:
    """`reflex run` in its own process group, its output collected as it comes."""

    def __init__(self, env: dict[str, str]):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines[-60:])

    def assert_running(self) -> None:
        """Alive, and no part of it failed to bind (a backend that panics leaves
        `reflex run` and its frontend running)."""
        assert self.process.poll() is None, "reflex run exited:\n" + self.output()
        bind_errors = [line for line in self.lines if "Address already in use" in line]
        assert not bind_errors, "".join(bind_errors) + self.output()

    def backend_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if match := BACKEND_LINE.search(line):
                    return int(match.group(1))
            self.assert_running()
            time.sleep(0.5)
        raise AssertionError("no backend within the time limit:\n" + self.output())

    def wait_until_answers(self, url: str, timeout: float, content_type: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assert_running()
            try:
                answer = httpx.get(url, timeout=5)
                if answer.status_code == 200 and content_type in answer.headers["content-type"]:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{url} did not answer:\n" + self.output())

    def family(self) -> list[psutil.Process]:
        try:
            return [
                psutil.Process(self.process.pid),
                *psutil.Process(self.process.pid).children(True),
            ]
        except psutil.NoSuchProcess:
            return []

    def interrupt(self) -> None:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)

    def kill_leftovers(self) -> None:
        for process in self.family():
            process.kill()


def _dev_environment(tmp_path, redis_url: str, frontend_port: int) -> dict[str, str]:
    tools = [PROJECT_ROOT / ".tools" / "node_modules" / ".bin", PROJECT_ROOT / ".venv" / "bin"]
    env = hookboard_env(
        PATH=os.pathsep.join([*map(str, tools), os.environ["PATH"]]),
        REFLEX_USE_SYSTEM_BUN="1",
        TELEMETRY_ENABLED="false",
        DATA_DIR=str(tmp_path),
        REDIS_URL=redis_url,
        PORT=str(frontend_port),  # the README's one web port; the backend takes Reflex's own
    )
    env.pop("DATABASE_URL", None)  # the fresh SQLite file in DATA_DIR
    return env


def _engine_roles(processes: list[psutil.Process]) -> set[str]:
    """Which of `python -m hookboard ticker|worker` run among these processes."""
    roles = set()
    for process in processes:
        with contextlib.suppress(psutil.Error):
            command = process.cmdline()
            if command[1:3] == ["-m", "hookboard"] and len(command) > 3:
                roles.add(command[3])
    return roles


@pytest.mark.parametrize(
    "cors_origins",
    [
        pytest.param("", id="same-origin-only"),
        # A production origin listed: the dev frontend's own origin is admitted too.
        pytest.param("https://hookboard.example.com", id="cors-origins-set"),
    ],
)
def test_reflex_run_serves_the_dashboard_and_the_api_and_stops_on_ctrl_c(
    tmp_path, redis, redis_url, cors_origins
):
    frontend_port = free_port()
    env = _dev_environment(tmp_path, redis_url, frontend_port)
    env["CORS_ORIGINS"] = cors_origins
    migrated = run_python(["-m", "hookboard", "migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    states_before = disk_state_files()

    server = DevServer(env)
    try:
        backend_port = server.backend_port(START_TIMEOUT_SECONDS)
        backend = f"http://127.0.0.1:{backend_port}"
        # The backend itself, not the dev frontend's catch-all page on the same port.
        server.wait_until_answers(f"{backend}/health/ready", START_TIMEOUT_SECONDS, "json")
        frontend = f"http://localhost:{frontend_port}"
        server.wait_until_answers(frontend, START_TIMEOUT_SECONDS, "html")

        signup = httpx.post(
            f"{backend}/api/v1/auth/signup",
            json={"email": EMAIL, "password": PASSWORD},
            timeout=30,
        )
        assert signup.status_code == 201, signup.text
        log_in_through_the_dashboard(frontend, EMAIL, PASSWORD)

        assert disk_state_files() <= states_before, "the dashboard's state went to .states/"
        assert reflex_state_keys(redis_url), "no dashboard state in Redis"
        family = server.family()
        assert _engine_roles(family) == {"ticker", "worker"}, [p.cmdline() for p in family]
    finally:
        server.interrupt()
    try:
        server.process.wait(timeout=60)
        _, alive = psutil.wait_procs(family, timeout=30)
        assert alive == [], f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"
    finally:
        server.kill_leftovers()
