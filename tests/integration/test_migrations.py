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
from sqlmodel import SQLModel

import hookboard.models  # noqa: F401
from alembic import command
from hookboard.core.db import make_engine
from hookboard.core.migrate import PROJECT_ROOT, alembic_config
from hookboard.domain.webhook_ids import run_webhook_id
from hookboard.models import Run

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

    command.upgrade(config, "head")
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        assert _counts(connection) == before  # no rebuild cascaded a delete
        if sqlite:
            assert _autoincrement_tables(connection) == set(OWNED_TABLES)
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        old = connection.execute(
            select(Run.__table__).where(Run.__table__.c.id == ids["kept_run"])
        ).one()
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
    command.upgrade(config, "head")
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
