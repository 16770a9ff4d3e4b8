"""Migrations build the schema the models describe, on SQLite and PostgreSQL,
and a failing migration leaves the database exactly as it was."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy import types as sa_types
from sqlmodel import SQLModel

import hookboard.models  # noqa: F401
from alembic import command
from hookboard.core.db import make_engine
from hookboard.core.migrate import PROJECT_ROOT, alembic_config
from hookboard.domain.webhook_ids import run_webhook_id

FAILING_REVISION = """
from alembic import op
import sqlalchemy as sa

revision = "ffffffffffff"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("users", sa.Column("doomed", sa.Integer, nullable=True))
    raise RuntimeError("this migration fails halfway")


def downgrade():
    pass
"""


def test_it_migrates_an_empty_database_to_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_every_table_is_created(database_url):
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    expected = {"users", "sessions", "api_keys", "signing_secrets", "targets", "schedules"}
    assert expected | {"runs", "attempts", "alembic_version"} <= tables


@pytest.fixture
def fresh_database_url(request, tmp_path):
    """An empty database of the parametrised kind, not shared with other tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    from tests.support.databases import (
        postgres_admin_url,
        postgres_unavailable_reason,
        temporary_postgres_database,
    )

    if reason := postgres_unavailable_reason(postgres_admin_url()):
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    with temporary_postgres_database(postgres_admin_url()) as url:
        yield url


@pytest.mark.parametrize(
    "fresh_database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_a_failed_migration_leaves_the_database_as_it_was(fresh_database_url, tmp_path):
    scripts = tmp_path / "alembic"
    shutil.copytree(PROJECT_ROOT / "alembic", scripts)
    config = alembic_config(fresh_database_url)
    config.set_main_option("script_location", str(scripts))
    command.upgrade(config, "head")
    head = _current_head(config)
    (scripts / "versions" / "zz_failing.py").write_text(FAILING_REVISION.format(head=head))

    with pytest.raises(RuntimeError, match="fails halfway"):
        command.upgrade(config, "head")

    engine = make_engine(fresh_database_url)
    inspector = inspect(engine)
    assert "half_done" not in inspector.get_table_names()
    assert "doomed" not in {column["name"] for column in inspector.get_columns("users")}
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    engine.dispose()


def _current_head(config) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config).get_current_head()


def test_alembic_ini_points_at_the_project_scripts():
    assert Path(alembic_config().get_main_option("script_location")).is_dir()


# ------------------------------------------------- ids never reused, runs' delivery keys
BEFORE_IDS = "96002120ed50"  # the revision before ids became never-reused
# The last revision with user-owned rows: the tests of earlier migrations stop
# there (test_workspace_migration.py takes it from there).
BEFORE_WORKSPACES = "7a3f0c2d9e41"
OWNED_TABLES = (
    "users",
    "sessions",
    "api_keys",
    "signing_secrets",
    "targets",
    "schedules",
    "runs",
    "attempts",
    "notification_channels",
    "alerts",
)


_UNIQUE = itertools.count()


def _filler(column) -> object:
    """A value for a NOT NULL column without a default, by its type."""
    if isinstance(column.type, sa_types.JSON):
        return {}  # header dicts: the encryption migration reads them as dicts
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = dict
    return {
        int: 1,
        float: 1.0,
        bool: False,
        str: f"x{next(_UNIQUE)}",  # unique columns: emails, token hashes
        dict: {},
        datetime: datetime(2026, 1, 1, tzinfo=UTC),
    }.get(kind, "x")


def _insert(connection, table: str, **given) -> int:
    """A row with `given` values, anything else required filled in; its id."""
    columns = Table(table, MetaData(), autoload_with=connection).columns
    row = {
        column.name: _filler(column)
        for column in columns
        if not column.nullable and column.server_default is None and column.name != "id"
    }
    row.update(given)
    inserted = connection.execute(columns.id.table.insert().values(row).returning(columns.id))
    return inserted.scalar_one()


def _seed_before_ids(connection) -> dict[str, int]:
    """One row in every table, two runs (the newest deleted, as a user would)."""
    ids = {"users": _insert(connection, "users", email="old@example.com")}
    user = {"user_id": ids["users"]}
    for table in ("sessions", "api_keys", "signing_secrets", "notification_channels"):
        ids[table] = _insert(connection, table, **user)
    ids["targets"] = _insert(connection, "targets", **user)
    ids["schedules"] = _insert(connection, "schedules", **user, target_id=ids["targets"])
    kept = _insert(connection, "runs", **user, schedule_id=ids["schedules"])
    newest = _insert(
        connection, "runs", **user, schedule_id=ids["schedules"], scheduled_for=datetime.now(UTC)
    )
    ids["runs"] = newest
    ids["attempts"] = _insert(connection, "attempts", **user, run_id=kept, number=1)
    ids["alerts"] = _insert(
        connection,
        "alerts",
        **user,
        channel_id=ids["notification_channels"],
        run_id=newest,
        schedule_id=ids["schedules"],
    )
    connection.execute(text("DELETE FROM runs WHERE id = :id"), {"id": newest})
    ids["kept_run"] = kept
    return ids


def _counts(connection) -> dict[str, int]:
    return {
        table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in OWNED_TABLES
    }


def _autoincrement_tables(connection) -> set[str]:
    if connection.dialect.name != "sqlite":
        return set()
    rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    return {name for name, sql in rows if "AUTOINCREMENT" in sql}


ENCRYPTION_REVISION = "eaea5100b417"
PLAINTEXT = {
    "secret": "whsec_" + "A" * 43 + "=",
    "url": "https://hooks.example.com/services/T0/B0/plaintext-token",
    "schedule_headers": {"Authorization": "Bearer schedule-token", "Accept": "text/plain"},
    "target_headers": {"X-Api-Key": "target-key", "X-Note": "enc:v1:not-an-envelope"},
}


def _insert_plaintext_rows(engine) -> None:
    """Rows as the schema before encryption held them (the tables as the database has them)."""
    from sqlalchemy import MetaData, Table

    from hookboard.models import Schedule, utcnow

    def row(table: Table, **values) -> dict:
        return {name: value for name, value in values.items() if name in table.c}

    meta, now = MetaData(), utcnow()
    users, secrets, channels, targets, schedules = (
        Table(name, meta, autoload_with=engine)
        for name in ("users", "signing_secrets", "notification_channels", "targets", "schedules")
    )
    with engine.begin() as connection:
        stamps = {"created_at": now, "updated_at": now}
        [user_id] = connection.execute(
            users.insert().values(
                email="old@example.com", password_hash="x", is_active=True, **stamps
            )
        ).inserted_primary_key
        connection.execute(
            secrets.insert().values(user_id=user_id, secret=PLAINTEXT["secret"], created_at=now)
        )
        connection.execute(
            channels.insert().values(
                row(channels, user_id=user_id, name="c", kind="webhook", url=PLAINTEXT["url"])
                | {"enabled": True, **stamps}
            )
        )
        [target_id] = connection.execute(
            targets.insert().values(
                user_id=user_id,
                name="t",
                url="https://example.com",
                method="POST",
                headers=PLAINTEXT["target_headers"],
                **stamps,
            )
        ).inserted_primary_key
        schedule = Schedule(
            workspace_id=user_id,  # the model's name; this revision's column is user_id
            name="s",
            kind="interval",
            every=1,
            unit="minutes",
            target_id=target_id,
            headers=PLAINTEXT["schedule_headers"],
        )
        fields = schedule.model_dump(exclude={"id", "workspace_id"})
        connection.execute(schedules.insert().values(row(schedules, user_id=user_id, **fields)))


def _stored(engine) -> dict:
    """The four values as stored, read without the encrypting column types."""
    from sqlalchemy import MetaData, Table, select

    meta = MetaData()
    tables = {
        name: Table(name, meta, autoload_with=engine)
        for name in ("signing_secrets", "notification_channels", "targets", "schedules")
    }
    with engine.connect() as connection:

        def one(table, column):
            return connection.execute(select(tables[table].c[column])).scalar_one()

        return {
            "secret": one("signing_secrets", "secret"),
            "url": one("notification_channels", "url"),
            "schedule_headers": one("schedules", "headers"),
            "target_headers": one("targets", "headers"),
        }


TWO_FACTOR_REVISION = "7a3f0c2d9e41"  # two-factor login and session details


@pytest.mark.parametrize(
    "fresh_database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_the_ids_migration_keeps_every_row_up_and_down_and_ids_are_never_reused(
    fresh_database_url,
):
    config = alembic_config(fresh_database_url)
    command.upgrade(config, BEFORE_IDS)
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        ids = _seed_before_ids(connection)
        before = _counts(connection)

    command.upgrade(config, BEFORE_WORKSPACES)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        assert _counts(connection) == before  # no rebuild cascaded a delete
        if sqlite:
            assert _autoincrement_tables(connection) == set(OWNED_TABLES)
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        runs = Table("runs", MetaData(), autoload_with=connection)  # this revision's columns
        old = connection.execute(select(runs).where(runs.c.id == ids["kept_run"])).one()
        assert old.delivery_key is None  # its webhook-id stays run_<id>
        assert run_webhook_id(old.id, old.delivery_key) == f"run_{ids['kept_run']}"
        # The deleted newest run's id (an alert still names it) is not given
        # again; no table gives a deleted row's id again.
        for table in OWNED_TABLES:
            first = _new_row(connection, table, ids, 1)
            assert first > ids[table], table
            connection.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": first})
            assert _new_row(connection, table, ids, 2) > first, table
        after = _counts(connection)

    command.downgrade(config, BEFORE_IDS)
    with engine.begin() as connection:
        assert _counts(connection) == after
        assert _autoincrement_tables(connection) == set()
        columns = {column["name"] for column in inspect(connection).get_columns("runs")}
        assert "delivery_key" not in columns
    command.upgrade(config, BEFORE_WORKSPACES)
    with engine.connect() as connection:
        assert _counts(connection) == after
    engine.dispose()


def _new_row(connection, table: str, ids: dict[str, int], n: int) -> int:
    """A new row of `table` under the seeded user; `n` keeps unique columns apart."""
    if table == "users":
        return _insert(connection, "users", email=f"new{n}@example.com")
    parents = {
        "runs": {
            "schedule_id": ids["schedules"],
            "scheduled_for": datetime(2027, 1, n, tzinfo=UTC),
        },
        "attempts": {"run_id": ids["kept_run"], "number": 1 + n},
        "alerts": {"channel_id": ids["notification_channels"]},
    }.get(table, {})
    return _insert(connection, table, user_id=ids["users"], **parents)


@pytest.mark.parametrize(
    "fresh_database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_the_encryption_migration_encrypts_existing_secrets_and_back(fresh_database_url):
    from alembic.script import ScriptDirectory
    from sqlalchemy import select
    from sqlmodel import Session

    from hookboard.domain.crypto import is_envelope
    from hookboard.models import NotificationChannel, Schedule, SigningSecret, Target

    config = alembic_config(fresh_database_url)
    before = ScriptDirectory.from_config(config).get_revision(ENCRYPTION_REVISION).down_revision
    command.upgrade(config, before)
    engine = make_engine(fresh_database_url)
    _insert_plaintext_rows(engine)
    assert _stored(engine) == PLAINTEXT

    command.upgrade(config, ENCRYPTION_REVISION)
    stored = _stored(engine)
    assert is_envelope(stored["secret"]) and is_envelope(stored["url"])
    assert is_envelope(stored["schedule_headers"]["Authorization"])
    assert stored["schedule_headers"]["Accept"] == "text/plain"
    assert is_envelope(stored["target_headers"]["X-Api-Key"])
    assert stored["target_headers"]["X-Note"] != PLAINTEXT["target_headers"]["X-Note"]
    for plaintext in ("whsec_", "plaintext-token", "schedule-token", "target-key"):
        assert plaintext not in str(stored)
    with Session(engine) as session:
        assert session.execute(select(SigningSecret.secret)).scalar_one() == PLAINTEXT["secret"]
        assert session.execute(select(NotificationChannel.url)).scalar_one() == PLAINTEXT["url"]
        assert (
            session.execute(select(Schedule.headers)).scalar_one() == PLAINTEXT["schedule_headers"]
        )
        assert session.execute(select(Target.headers)).scalar_one() == PLAINTEXT["target_headers"]

    command.downgrade(config, before)
    assert _stored(engine) == PLAINTEXT
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("signing_secrets")}
    if engine.dialect.name == "postgresql":
        assert getattr(columns["secret"], "length", None) == 100


@pytest.mark.parametrize(
    "fresh_database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_the_two_factor_migration_keeps_users_and_sessions_up_and_down(fresh_database_url):
    from alembic.script import ScriptDirectory

    config = alembic_config(fresh_database_url)
    before = ScriptDirectory.from_config(config).get_revision(TWO_FACTOR_REVISION).down_revision
    command.upgrade(config, before)
    engine = make_engine(fresh_database_url)
    stamp = "2026-12-01 10:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, is_active, created_at, updated_at)"
                " VALUES (1, 'old@example.com', 'hash', true, :t, :t)"
            ),
            {"t": stamp},
        )
        connection.execute(
            text(
                "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at)"
                " VALUES (1, 1, 'a1', :t, :t)"
            ),
            {"t": stamp},
        )

    command.upgrade(config, TWO_FACTOR_REVISION)
    with engine.begin() as connection:
        user = connection.execute(
            text("SELECT email, totp_secret, totp_enabled_at, totp_last_step FROM users")
        ).one()
        assert tuple(user) == ("old@example.com", None, None, None)
        session = connection.execute(
            text("SELECT token_hash, last_used_at, client_ip, user_agent FROM sessions")
        ).one()
        assert tuple(session) == ("a1", None, None, None)
        connection.execute(
            text("UPDATE users SET totp_secret = 'S', totp_enabled_at = :t, totp_last_step = 7"),
            {"t": stamp},
        )
        connection.execute(
            text(
                "UPDATE sessions SET client_ip = '10.0.0.1', user_agent = 'curl', last_used_at = :t"
            ),
            {"t": stamp},
        )
        connection.execute(
            text(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (1, 'c1', :t)"
            ),
            {"t": stamp},
        )
        connection.execute(
            text(
                "INSERT INTO login_challenges (user_id, token_hash, created_at, expires_at, tries)"
                " VALUES (1, 'h1', :t, :t, 0)"
            ),
            {"t": stamp},
        )

    command.downgrade(config, before)
    inspector = inspect(engine)
    assert not {"recovery_codes", "login_challenges"} & set(inspector.get_table_names())
    assert "totp_secret" not in {column["name"] for column in inspector.get_columns("users")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM users")).scalar_one() == "old@example.com"
        assert connection.execute(text("SELECT token_hash FROM sessions")).scalar_one() == "a1"
    engine.dispose()
