"""Real test databases: a migrated SQLite file, and a PostgreSQL database of the
session's own, created at start and dropped at the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from hookboard.core.db import make_engine
from hookboard.settings import normalise_database_url

DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return normalise_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_ADMIN_URL))


def postgres_unavailable_reason(admin_url: str) -> str | None:
    """None when the server answers; otherwise why the PostgreSQL tests are skipped."""
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        safe = make_url(admin_url).render_as_string(hide_password=True)
        return f"no PostgreSQL at {safe} ({type(error).__name__}: {first_line[:160]})"
    finally:
        engine.dispose()
    return None


@contextmanager
def temporary_postgres_database(admin_url: str) -> Iterator[str]:
    """Create `hookboard_test_<random>` and drop it afterwards, whatever happens."""
    name = f"hookboard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# Workspace ids start far from user ids in the tests' databases, so that code
# passing a user id where a workspace id belongs (they start equal in a
# migrated database) fails instead of passing by coincidence.
WORKSPACE_ID_OFFSET = 1_000_000


def offset_workspace_ids(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'workspaces'")
            connection.exec_driver_sql(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('workspaces', ?)",
                (WORKSPACE_ID_OFFSET,),
            )
        else:
            connection.exec_driver_sql(
                f"ALTER SEQUENCE workspaces_id_seq RESTART WITH {WORKSPACE_ID_OFFSET + 1}"
            )
    engine.dispose()


def empty_all_tables(engine: Engine) -> None:
    """Delete every row, children first, so the next test starts clean."""
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@contextmanager
def postgres_outage(database_url: str) -> Iterator[None]:
    """An outage of one PostgreSQL database: it refuses new connections and the open
    ones are cut, until the block ends. The server goes on serving the others."""
    name = make_url(database_url).database
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        try:
            yield
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()
