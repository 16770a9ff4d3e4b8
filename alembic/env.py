"""Alembic environment: Hookboard's metadata and its settings' database URL.

Written by hand because `reflex db` ignores this file; plain `alembic upgrade
head` (or `python -m hookboard migrate`) works from any process. The whole
upgrade runs in one transaction, so a failed migration leaves the database as
it was (both SQLite, through the engine's explicit BEGIN, and PostgreSQL).
"""

from sqlmodel import SQLModel

import hookboard.models  # noqa: F401  (registers the tables)
from alembic import context
from hookboard.core.db import make_engine
from hookboard.settings import get_settings

config = context.config


def database_url() -> str:
    # Tests and tools may pass a URL explicitly; otherwise use the settings.
    return config.attributes.get("database_url") or get_settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=SQLModel.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch rebuild drops and recreates a table; with foreign keys on,
        # SQLite's DROP TABLE deletes the rows that reference it (ON DELETE
        # CASCADE). They can only be switched off outside a transaction, so
        # here, before it begins (the migration checks them before commit).
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
    try:
        _migrate(connection)
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
