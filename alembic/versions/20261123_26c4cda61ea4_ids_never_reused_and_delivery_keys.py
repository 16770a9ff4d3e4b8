"""ids never reused (SQLite AUTOINCREMENT) and runs' delivery keys

Revision ID: 26c4cda61ea4
Revises: 96002120ed50
Create Date: 2026-11-23 09:00:00

SQLite gives a deleted row's id again (the highest one) unless the table is
declared AUTOINCREMENT, which takes rebuilding it; PostgreSQL's sequences
never go back, so there only the delivery key is added. Runs recorded before
this keep a NULL key and their old webhook-id, run_<id>.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "26c4cda61ea4"
down_revision: str | None = "96002120ed50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table with an integer id, parents first.
TABLES = (
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
# Ids that outlive their row elsewhere (no foreign key): the sequence starts
# above them, so a run or schedule an alert names is never another's.
ALSO_TAKEN = {
    "runs": ("SELECT max(last_run_id) FROM schedules", "SELECT max(run_id) FROM alerts"),
    "schedules": ("SELECT max(schedule_id) FROM alerts",),
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _require_foreign_keys_off()
    for table in TABLES:
        with _alter(table, sqlite, autoincrement=True) as batch_op:
            if table == "runs":
                batch_op.add_column(
                    sa.Column(
                        "delivery_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True
                    )
                )
                batch_op.create_index("ix_runs_delivery_key", ["delivery_key"], unique=True)
    if sqlite:
        for table, queries in ALSO_TAKEN.items():
            _raise_sequence(table, queries)
        _check_foreign_keys()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _require_foreign_keys_off()
    for table in TABLES:
        with _alter(table, sqlite, autoincrement=False) as batch_op:
            if table == "runs":
                batch_op.drop_index("ix_runs_delivery_key")
                batch_op.drop_column("delivery_key")
    if sqlite:
        _check_foreign_keys()


def _alter(table: str, sqlite: bool, *, autoincrement: bool):
    if not sqlite:
        return op.batch_alter_table(table)  # plain ALTERs on PostgreSQL
    return op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    )


def _require_foreign_keys_off() -> None:
    # Rebuilding drops each table; with foreign keys on, that deletes the rows
    # referencing it (alembic/env.py switches them off before the transaction).
    if op.get_bind().exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite foreign keys must be off while tables are rebuilt")


def _check_foreign_keys() -> None:
    broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"rebuilt tables break foreign keys: {broken[:5]}")


def _raise_sequence(table: str, queries: Sequence[str]) -> None:
    bind = op.get_bind()
    taken = max((bind.exec_driver_sql(query).scalar() or 0 for query in queries), default=0)
    current = bind.exec_driver_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
    ).scalar()
    if current is None:
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, taken)
        )
    elif taken > current:
        bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (taken, table))
