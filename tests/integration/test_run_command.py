"""The README's run command brings everything up, and Ctrl-C takes it all down."""

import signal
import subprocess
import time
import urllib.request

import httpx
import pytest

from hookboard.cli.local_redis import answers
from tests.integration.dashboard_session import (
    disk_state_files,
    log_in_through_the_dashboard,
    reflex_state_keys,
)
from tests.support.processes import PROJECT_ROOT, free_port, hookboard_env, wait_for_http

pytestmark = pytest.mark.slow

EMAIL, PASSWORD = "run@example.com", "long enough"


def test_run_starts_web_ticker_worker_and_its_own_redis(tmp_path):
    """...and the dashboard keeps each tab's state in that Redis, not in .states/."""
    port, redis_port = free_port(), free_port()
    env = hookboard_env(
        DATA_DIR=str(tmp_path), PORT=str(port), REDIS_URL=f"redis://127.0.0.1:{redis_port}/0"
    )
    env.pop("DATABASE_URL", None)
    launcher = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            if not line:
                break
            output.append(line)
            if "ready at" in line:
                break
        assert any("ready at" in line for line in output), "".join(output)
        assert any("starting one on" in line for line in output)

        ready = wait_for_http(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        assert b'"redis":{"ok":true' in ready
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
        _assert_the_api_answers_through_the_app(f"http://127.0.0.1:{port}/api/v1")
        assert (tmp_path / "hookboard.db").exists()

        states_before = disk_state_files()
        log_in_through_the_dashboard(f"http://127.0.0.1:{port}", EMAIL, PASSWORD)
        assert disk_state_files() <= states_before, "the dashboard's state went to .states/"
        assert reflex_state_keys(f"redis://127.0.0.1:{redis_port}/0"), "no dashboard state in Redis"
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=30)

    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
    assert not answers(f"redis://127.0.0.1:{redis_port}/0"), "its own Redis was left running"


def _assert_the_api_answers_through_the_app(api: str) -> None:
    """The FastAPI routes are mounted in the Reflex app, on its one port."""
    with httpx.Client(base_url=api, timeout=30) as client:
        signup = client.post("/auth/signup", json={"email": EMAIL, "password": PASSWORD})
        assert signup.status_code == 201, signup.text
        headers = {"Authorization": f"Bearer {signup.json()['token']}"}
        created = client.post(
            "/schedules",
            headers=headers,
            json={
                "name": "smoke",
                "kind": "interval",
                "every": 1,
                "unit": "hours",
                "request": {"url": "https://example.com/hook"},
                "paused": True,  # never fires: tests send nothing beyond loopback
            },
        )
        assert created.status_code == 201, created.text
        listed = client.get("/schedules", headers=headers).json()
        assert [item["name"] for item in listed["items"]] == ["smoke"]
