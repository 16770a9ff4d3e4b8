"""Migrations build the schema the models describe, on SQLite and PostgreSQL,
and a failing migration leaves the database exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import hookboard.models  # noqa: F401
from alembic import command
from hookboard.core.db import make_engine
from hookboard.core.migrate import PROJECT_ROOT, alembic_config

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


TWO_FACTOR_REVISION = "7a3f0c2d9e41"  # two-factor login and session details


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
