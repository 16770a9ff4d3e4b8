"""Bad settings stop the launcher with one clear line and no traceback."""

import socket
import subprocess
import sys

import pytest

from tests.support.processes import PROJECT_ROOT, free_port, hookboard_env, run_python


def launch(tmp_path, **env):
    return run_python(
        ["-m", "hookboard.cli.launcher"], hookboard_env(DATA_DIR=str(tmp_path), **env)
    )


def assert_one_clear_line(result, setting: str):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert f"error: {setting}:" in errors[0]
    return errors[0]


def test_an_unreachable_database_is_named(tmp_path):
    port = free_port()
    result = launch(
        tmp_path, DATABASE_URL=f"postgresql://nobody@127.0.0.1:{port}/x", PORT=str(free_port())
    )
    line = assert_one_clear_line(result, "DATABASE_URL")
    assert "cannot connect" in line


@pytest.mark.parametrize("url", ["redis://localhost:abc/0", "redis://localhost:6379/x", "http://x"])
def test_a_malformed_redis_url_is_named(tmp_path, url):
    result = launch(tmp_path, REDIS_URL=url, PORT=str(free_port()))
    assert_one_clear_line(result, "REDIS_URL")


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = launch(tmp_path, PORT=str(port))
    line = assert_one_clear_line(result, "PORT")
    assert f"{port} is already in use" in line


def test_production_without_a_secret_is_named(tmp_path):
    result = launch(tmp_path, ENVIRONMENT="production", SECRET_KEY="")
    assert_one_clear_line(result, "SECRET_KEY")


def test_a_malformed_target_host_allowlist_is_named(tmp_path):
    result = launch(tmp_path, TARGET_HOST_ALLOWLIST="hooks.example.com, ex*ample.com")
    line = assert_one_clear_line(result, "TARGET_HOST_ALLOWLIST")
    assert "'ex*ample.com'" in line


def test_an_encryption_key_that_does_not_open_the_stored_secrets_is_named(tmp_path):
    env = hookboard_env(DATA_DIR=str(tmp_path))
    migrated = run_python(["-m", "hookboard", "migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    created = subprocess.run(
        [sys.executable, "-m", "hookboard", "create-user", "a@example.com", "--password-stdin"],
        cwd=PROJECT_ROOT,
        env=env,
        input="long enough\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    result = launch(
        tmp_path,
        ENCRYPTION_KEY="not the key these secrets were written with",
        PORT=str(free_port()),
    )
    line = assert_one_clear_line(result, "ENCRYPTION_KEY")
    assert "does not decrypt the stored secrets" in line
