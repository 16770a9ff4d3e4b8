"""A populated database as it was before workspaces (revision 7a3f0c2d9e41):
rows owned by users through `user_id`, written with raw inserts into the tables
as that revision has them. Encrypted columns are written through the models'
own column types, so they hold real envelopes under the tests' key.

Used by tests/integration/test_workspace_migration.py.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, MetaData, Table
from sqlalchemy import types as sa_types
from sqlmodel import SQLModel

import hookboard.models  # noqa: F401  (the models' tables, for their column types)
from hookboard.core.crypto import EncryptedHeaders, EncryptedString
from hookboard.domain.signing import generate_secret
from hookboard.domain.tokens import hash_token, new_api_key, new_session_token
from hookboard.services.badge import new_badge_token

BEFORE_WORKSPACES = "7a3f0c2d9e41"
WORKSPACES = "d8dd83c74486"
# bcrypt of "correct horse battery", computed once; nobody logs in with it here.
PASSWORD_HASH = "$2b$04$mU6KxAQcb2vuF4Z.6S8E.uTjMAnFXLROS6AQeRWxkRo426emx2PZ."
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Rows that move from users to workspaces, parents first.
OWNED_TABLES = (
    "api_keys",
    "signing_secrets",
    "targets",
    "schedules",
    "runs",
    "attempts",
    "notification_channels",
    "alerts",
)
# Rows that stay with their user.
USER_TABLES = ("users", "sessions", "recovery_codes")
FAR = datetime(2031, 1, 1, tzinfo=UTC)

_unique = itertools.count()


@dataclass
class Seeded:
    """What a user had before workspaces, to call the API with afterwards."""

    user_id: int
    session_token: str
    read_key: str
    write_key: str
    signing_secret: str
    badge_token: str
    due_schedule_id: int
    ids: dict[str, list[int]] = field(default_factory=dict)  # table -> ids of this user's rows


def old_table(connection: Connection, name: str) -> Table:
    """The table as the database has it, with the models' encrypting column types."""
    table = Table(name, MetaData(), autoload_with=connection)
    model = SQLModel.metadata.tables.get(name)
    for column in table.columns:
        own = model.c.get(column.name) if model is not None else None
        if own is not None and isinstance(own.type, EncryptedString | EncryptedHeaders):
            column.type = own.type
    return table


def _filler(column) -> object:
    """A value for a NOT NULL column without a default, by its type."""
    if isinstance(column.type, sa_types.JSON | EncryptedHeaders):
        return {}
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = dict
    return {
        int: 1,
        float: 1.0,
        bool: False,
        str: f"x{next(_unique)}",
        dict: {},
        datetime: datetime(2026, 1, 1, tzinfo=UTC),
    }.get(kind, "x")


def insert(connection: Connection, table_name: str, **given) -> int:
    """A row with `given` values, anything else required filled in; its id."""
    table = old_table(connection, table_name)
    row = {
        column.name: _filler(column)
        for column in table.columns
        if not column.nullable and column.server_default is None and column.name != "id"
    }
    row.update(given)
    return connection.execute(table.insert().values(row).returning(table.c.id)).scalar_one()


def _schedule(connection, user_id: int, target_id: int, kind: str, now: datetime, **timing) -> int:
    return insert(
        connection,
        "schedules",
        user_id=user_id,
        name=f"{kind} schedule",
        status="active",
        kind=kind,
        timezone="UTC",
        anchor_at=now,
        target_id=target_id,
        headers={"Authorization": "Bearer schedule-token"},
        timeout_seconds=5.0,
        follow_redirects=False,
        max_attempts=1,
        backoff="exponential",
        base_delay_seconds=1.0,
        max_delay_seconds=60.0,
        jitter=False,
        misfire="coalesce",
        overlap="skip",
        consecutive_failures=0,
        auto_pause_after=15,
        created_at=now,
        updated_at=now,
        **{"next_run_at": FAR, **timing},
    )


def _run_with_attempt(connection, user_id: int, schedule_id: int, status: str) -> tuple[int, int]:
    at = datetime.now(UTC) - timedelta(hours=1, seconds=next(_unique))
    code = 200 if status == "succeeded" else 500
    run = insert(
        connection,
        "runs",
        user_id=user_id,
        schedule_id=schedule_id,
        scheduled_for=at,
        trigger="schedule",
        status=status,
        attempt_count=1,
        max_attempts=1,
        status_code=code,
        error_class="success" if code == 200 else "http_5xx",
        created_at=at,
        finished_at=at,
    )
    attempt = insert(
        connection,
        "attempts",
        run_id=run,
        user_id=user_id,
        number=1,
        started_at=at,
        error_class="success" if code == 200 else "http_5xx",
        status_code=code,
        request_method="POST",
        request_url="http://127.0.0.1:9/old",
        request_headers={"webhook-id": f"run_{run}"},
        response_headers={},
        created_at=at,
    )
    return run, attempt


def _close(connection: Connection, user_id: int, now: datetime) -> None:
    """What closing an account did before workspaces (services/accounts/closing.py
    at that revision): sign-ins and keys revoked, schedules paused; the purge
    had yet to come."""
    for table in ("sessions", "api_keys"):
        rows = old_table(connection, table)
        connection.execute(rows.update().where(rows.c.user_id == user_id).values(revoked_at=now))
    schedules = old_table(connection, "schedules")
    connection.execute(
        schedules.update()
        .where(schedules.c.user_id == user_id)
        .values(status="paused", paused_reason="account closed", next_run_at=None)
    )


def seed_user(
    connection: Connection, email: str, *, hook_url: str, active: bool = True, two_factor=False
) -> Seeded:
    """A user with one of everything: schedules of every kind on a target, runs and
    attempts, channels and an alert, read and write keys, a session, a secret."""
    now = datetime.now(UTC)
    ids: dict[str, list[int]] = {}

    def add(table: str, **values) -> int:
        new = insert(connection, table, **values)
        ids.setdefault(table, []).append(new)
        return new

    user_id = add(
        "users",
        email=email,
        password_hash=PASSWORD_HASH,
        is_active=active,
        created_at=now - timedelta(days=30),
        updated_at=now - timedelta(days=1),
        totp_secret=TOTP_SECRET if two_factor else None,
        totp_enabled_at=now - timedelta(days=2) if two_factor else None,
    )
    owner = {"user_id": user_id}
    if two_factor:
        add("recovery_codes", **owner, code_hash=hash_token(f"code-{email}"), created_at=now)
    issued = new_session_token()
    add("sessions", **owner, token_hash=issued.token_hash, expires_at=now + timedelta(days=1))
    keys = {scope: new_api_key() for scope in ("read", "write")}
    for scope, key in keys.items():
        add(
            "api_keys",
            **owner,
            name=f"{scope} key",
            prefix=key.display_prefix,
            key_hash=key.token_hash,
            scope=scope,
            created_at=now,
        )
    secret = generate_secret()
    add("signing_secrets", **owner, secret=secret, created_at=now)
    target = add(
        "targets",
        **owner,
        name="billing",
        url=hook_url,
        method="POST",
        headers={"X-Api-Key": "target-key", "Content-Type": "application/json"},
        body='{"n": 1}',
        created_at=now,
        updated_at=now,
    )
    badge = new_badge_token()
    schedules = {
        "cron": _schedule(connection, user_id, target, "cron", now, cron="*/5 * * * *"),
        # Due at once: the engine delivers it after the upgrade.
        "interval": _schedule(
            connection, user_id, target, "interval", now, every=1, unit="hours", next_run_at=now
        ),
        "once": _schedule(connection, user_id, target, "once", now, run_at=FAR),
        "window": _schedule(
            connection,
            user_id,
            target,
            "window",
            now,
            every=15,
            unit="minutes",
            starts_at=FAR,
            ends_at=FAR + timedelta(hours=2),
            badge_token=badge,
        ),
    }
    ids["schedules"] = list(schedules.values())
    for status in ("succeeded", "failed"):
        run, attempt = _run_with_attempt(connection, user_id, schedules["cron"], status)
        ids.setdefault("runs", []).append(run)
        ids.setdefault("attempts", []).append(attempt)
    hook = add(
        "notification_channels",
        **owner,
        name="ops hook",
        kind="webhook",
        url="http://127.0.0.1:9/services/T0/B0/token",
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    add(
        "notification_channels",
        **owner,
        name="ops mail",
        kind="email",
        email="ops@example.com",
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    add(
        "alerts",
        **owner,
        channel_id=hook,
        schedule_id=schedules["cron"],
        run_id=ids["runs"][-1],
        event="run_failed",
        subject="cron schedule failed",
        text="HTTP 500",
        details={},
        status="sent",
        attempts=1,
        next_attempt_at=now,
        created_at=now,
        sent_at=now,
    )
    if not active:
        _close(connection, user_id, now)
    return Seeded(
        user_id=user_id,
        session_token=issued.token,
        read_key=keys["read"].token,
        write_key=keys["write"].token,
        signing_secret=secret,
        badge_token=badge,
        due_schedule_id=schedules["interval"],
        ids=ids,
    )
