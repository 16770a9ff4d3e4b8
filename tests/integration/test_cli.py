"""`python -m hookboard ...` against real databases, Redis and engine processes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from sqlmodel import Session, select

from hookboard.core.db import make_engine
from hookboard.domain.passwords import verify_password
from hookboard.domain.tokens import hash_token
from hookboard.models import ApiKey, Schedule, User
from tests.support.engine import EngineProcesses, make_schedule, make_workspace, wait_until
from tests.support.processes import PROJECT_ROOT, free_port, hookboard_env, run_python


def hookboard(*args: str, stdin: str | None = None, timeout: float = 60, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "hookboard", *args],
        cwd=PROJECT_ROOT,
        env=hookboard_env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(database_url, redis_url, engine) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"hb-cli-{uuid.uuid4().hex[:6]}",
    }


def one_error_line(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("hookboard: error: ")
    return line


def test_create_a_user_and_an_api_key(env, engine):
    created = hookboard(
        "create-user", "Ops@Example.com", "--password-stdin", stdin="long enough\n", **env
    )
    assert created.returncode == 0, created.stderr
    again = hookboard(
        "create-user", "ops@example.com", "--password-stdin", stdin="long enough\n", **env
    )
    assert "email: an account for ops@example.com already exists" in one_error_line(again)
    short = hookboard("create-user", "x@example.com", "--password-stdin", stdin="short\n", **env)
    assert "password:" in one_error_line(short)

    key = hookboard("create-api-key", "ops@example.com", "--name", "ci", "--scope", "read", **env)
    assert key.returncode == 0, key.stderr
    token = key.stdout.strip()
    assert token.startswith("hbk_") and token not in key.stderr
    with Session(engine) as session:
        user = session.exec(select(User)).one()
        assert user.email == "ops@example.com"
        assert verify_password("long enough", user.password_hash)
        stored = session.exec(select(ApiKey)).one()
    assert stored.key_hash == hash_token(token) and stored.scope == "read" and stored.name == "ci"
    missing = hookboard("create-api-key", "nobody@example.com", "--name", "x", **env)
    assert "no account for nobody@example.com" in one_error_line(missing)


def test_export_then_import_into_another_account(env, engine, tmp_path):
    alice = make_workspace(engine, "alice@example.com")
    make_workspace(engine, "bob@example.com")
    make_schedule(
        engine, alice, name="nightly", kind="cron", cron="0 2 * * *", timezone="Europe/Berlin",
        url="https://hooks.example.com/n", method="POST", headers={"X-Api-Key": "k3y"},
    )  # fmt: skip
    path = tmp_path / "alice.json"
    exported = hookboard("export", "alice@example.com", "-o", str(path), "--include-secrets", **env)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(path.read_text())
    assert document["schedules"][0]["request"]["headers"] == {"X-Api-Key": "k3y"}

    dry = hookboard("import", "bob@example.com", str(path), "--dry-run", **env)
    assert dry.returncode == 0, dry.stderr
    assert "create    schedule nightly" in dry.stdout
    assert "dry run: 1 create, 0 update, 0 unchanged; nothing was written" in dry.stdout
    with Session(engine) as session:
        assert len(session.exec(select(Schedule)).all()) == 1

    done = hookboard("import", "bob@example.com", str(path), **env)
    assert done.returncode == 0, done.stderr
    bobs = hookboard("export", "bob@example.com", "--include-secrets", **env)
    assert json.loads(bobs.stdout)["schedules"] == document["schedules"]

    item = {"name": "x", "kind": "cron", "cron": "nope", "request": {"url": "https://x.example"}}
    path.write_text(json.dumps({"schedules": [item]}))
    bad = hookboard("import", "bob@example.com", str(path), **env)
    assert one_error_line(bad).startswith("hookboard: error: schedules.0.cron:")
    path.write_text("{not json")
    assert "not JSON" in one_error_line(hookboard("import", "bob@example.com", str(path), **env))


def test_doctor_fails_without_ticker_and_worker_then_passes(env, database_url, redis_url, engine):
    lonely = hookboard("doctor", **env)
    assert lonely.returncode == 1
    assert "ok    database" in lonely.stdout and "ok    migrations" in lonely.stdout
    assert "fail  tickers" in lonely.stdout and "fail  workers" in lonely.stdout
    assert "2 check(s) failed: tickers, workers" in lonely.stderr

    with EngineProcesses(database_url, redis_url) as processes:
        processes.ticker()
        processes.worker()
        env["QUEUE_NAME"] = processes.queue_name

        def healthy():
            result = hookboard("doctor", **env)
            return result if result.returncode == 0 else None

        result = wait_until(healthy, timeout=30, interval=1)
    for name in ("settings", "database", "migrations", "redis", "tickers", "workers"):
        assert f"ok    {name}" in result.stdout, result.stdout
    assert "1 alive" in result.stdout and "1 in RQ's registry" in result.stdout
    assert "clock (redis)" in result.stdout


def test_doctor_names_an_unmigrated_database_and_a_dead_redis(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = hookboard("doctor", DATABASE_URL=url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 1
    assert "fail  migrations" in result.stdout and "hookboard migrate" in result.stdout
    assert "fail  redis" in result.stdout
    migrated = hookboard("migrate", DATABASE_URL=url)
    assert migrated.returncode == 0, migrated.stderr
    with Session(make_engine(url)) as session:
        assert session.exec(select(User)).all() == []


def test_bad_settings_and_an_unreachable_database_are_one_line():
    bad = run_python(["-m", "hookboard", "doctor"], hookboard_env(REDIS_URL="http://x"))
    assert "REDIS_URL" in one_error_line(bad)
    dead = hookboard(
        "create-api-key", "a@example.com", "--name", "x",
        DATABASE_URL=f"postgresql://nobody@127.0.0.1:{free_port()}/x",
    )  # fmt: skip
    assert "DATABASE_URL: cannot use the database" in one_error_line(dead)
