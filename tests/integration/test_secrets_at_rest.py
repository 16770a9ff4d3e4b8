"""Secrets at rest, against real databases and processes: the tables hold only
envelopes, every reader gets plaintext, rotation moves rows to the new key,
and a process with the wrong key refuses to start."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from hookboard.core.crypto import current_keyring
from hookboard.core.secrets import live_secrets_by_workspace
from hookboard.domain.crypto import Keyring, envelope_key_id, is_envelope
from hookboard.engine.claim import claim_runs
from hookboard.models import NotificationChannel, Run, SigningSecret, Target
from hookboard.settings import get_settings
from tests.support.engine import make_schedule, make_workspace
from tests.support.processes import PROJECT_ROOT, hookboard_env

NEW_KEY = "a brand new passphrase, long enough to be a key"
CHANNEL_URL = "https://hooks.example.com/services/T000/B000/channel-token"
TARGET_TOKEN = "Bearer target-token-123"
SCHEDULE_TOKEN = "schedule-api-key-456"


def make_secrets(engine) -> dict:
    """A user with a signing secret, a channel, a target and a schedule using it."""
    workspace_id = make_workspace(engine)
    with Session(engine) as session:
        target = Target(
            workspace_id=workspace_id,
            name="t",
            url="http://127.0.0.1:9/hook",
            headers={"Authorization": TARGET_TOKEN, "Accept": "text/plain"},
        )
        channel = NotificationChannel(
            workspace_id=workspace_id, name="c", kind="webhook", url=CHANNEL_URL
        )
        session.add_all([target, channel])
        session.commit()
        target_id = target.id
        secret = session.exec(select(SigningSecret.secret)).one()
    schedule_id = make_schedule(
        engine,
        workspace_id,
        kind="once",
        run_at=datetime.now(UTC) + timedelta(hours=1),
        target_id=target_id,
        headers={"X-Api-Key": SCHEDULE_TOKEN},
    )
    return {"workspace_id": workspace_id, "schedule_id": schedule_id, "secret": secret}


def raw_values(engine) -> list[str]:
    """Every stored secret-bearing value, as the database holds it."""
    queries = [
        "SELECT secret FROM signing_secrets",
        "SELECT url FROM notification_channels",
        "SELECT headers FROM targets",
        "SELECT headers FROM schedules",
    ]
    values = []
    with engine.connect() as connection:
        for query in queries:
            for (value,) in connection.execute(text(query)):
                values.append(value if isinstance(value, str) else json.dumps(value))
    return values


def test_the_database_holds_no_plaintext_secret(engine):
    made = make_secrets(engine)
    stored = "\n".join(raw_values(engine))
    for plaintext in (made["secret"], CHANNEL_URL, TARGET_TOKEN, SCHEDULE_TOKEN):
        assert plaintext not in stored
    assert "text/plain" in stored  # headers that are not secret stay readable
    with engine.connect() as connection:
        [stored_secret] = connection.execute(text("SELECT secret FROM signing_secrets")).scalars()
    assert is_envelope(stored_secret)
    assert made["secret"].startswith("whsec_")


def test_every_reader_gets_the_plaintext_back(engine):
    made = make_secrets(engine)
    with Session(engine) as session:
        assert session.exec(select(NotificationChannel.url)).one() == CHANNEL_URL
        assert session.exec(select(Target)).one().headers["Authorization"] == TARGET_TOKEN
    now = datetime.now(UTC)
    with engine.connect() as connection:
        secrets = live_secrets_by_workspace(connection, {made["workspace_id"]}, now)
    assert secrets == {made["workspace_id"]: [made["secret"]]}
    with Session(engine) as session:
        run = Run(
            workspace_id=made["workspace_id"], schedule_id=made["schedule_id"], scheduled_for=now
        )
        session.add(run)
        session.commit()
        run_id = run.id
    # The worker's claim: raw SQL on PostgreSQL, Core on SQLite.
    [claimed] = claim_runs(engine, [run_id], now, lease_grace=timedelta(seconds=30))
    assert claimed.secrets == [made["secret"]]
    assert claimed.request.headers["Authorization"] == TARGET_TOKEN
    assert claimed.request.headers["X-Api-Key"] == SCHEDULE_TOKEN


def hookboard(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=hookboard_env(DATABASE_URL=database_url, LOG_LEVEL="WARNING", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_error_line(result) -> str:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "error:" in line]
    assert line.startswith("hookboard: error: ")
    return line


def stored_key_ids(engine) -> set[str]:
    ids = set()
    for value in raw_values(engine):
        for part in value.split('"') if value.startswith("{") else [value]:
            if is_envelope(part):
                ids.add(envelope_key_id(part))
    return ids


def test_rotation_moves_every_secret_to_the_new_key_in_batches(engine, database_url):
    makes = [make_secrets(engine)]
    for n in range(3):  # more signing secrets than one batch
        make_workspace(engine, email=f"other{n}@example.com")
    old_key = get_settings().effective_secret_key()
    assert stored_key_ids(engine) == {current_keyring().primary_id}
    rotating = {"ENCRYPTION_KEY": NEW_KEY, "ENCRYPTION_KEY_PREVIOUS": old_key}

    command = ["-m", "hookboard", "rotate-encryption-key", "--batch-size", "2"]
    result = hookboard(database_url, *command, **rotating)
    assert result.returncode == 0, result.stderr
    assert "signing_secrets.secret: 4 re-encrypted of 4 rows" in result.stdout
    assert "schedules.headers: 1 re-encrypted of 1 rows" in result.stdout
    new = Keyring.from_materials([NEW_KEY])
    assert stored_key_ids(engine) == {new.primary_id}
    with engine.connect() as connection:
        url = connection.execute(text("SELECT url FROM notification_channels")).scalar_one()
    assert new.decrypt(url, "notification_channels.url") == CHANNEL_URL

    again = hookboard(database_url, *command, **rotating)
    assert "signing_secrets.secret: 0 re-encrypted of 4 rows" in again.stdout  # idempotent

    # The new key alone now starts a worker's check; the old one is refused.
    refused = hookboard(database_url, "-m", "hookboard", "migrate")
    line = one_error_line(refused)
    assert f"ENCRYPTION_KEY: does not decrypt the stored secrets (key id {new.primary_id}" in line
    accepted = hookboard(database_url, "-m", "hookboard", "migrate", ENCRYPTION_KEY=NEW_KEY)
    assert accepted.returncode == 0, accepted.stderr
    assert makes[0]["secret"] not in "\n".join(raw_values(engine))


def test_rotation_without_the_old_key_stops_with_one_line(engine, database_url):
    make_secrets(engine)
    result = hookboard(
        database_url, "-m", "hookboard", "rotate-encryption-key", ENCRYPTION_KEY=NEW_KEY
    )
    assert "ENCRYPTION_KEY_PREVIOUS: " in one_error_line(result)


@pytest.mark.parametrize("script", ["worker.py", "ticker.py"])
def test_an_engine_process_refuses_a_wrong_key_with_one_line(engine, database_url, script):
    make_secrets(engine)
    result = hookboard(database_url, script, ENCRYPTION_KEY=NEW_KEY)
    line = one_error_line(result)
    old_id = current_keyring().primary_id
    assert f"error: ENCRYPTION_KEY: does not decrypt the stored secrets (key id {old_id}" in line
