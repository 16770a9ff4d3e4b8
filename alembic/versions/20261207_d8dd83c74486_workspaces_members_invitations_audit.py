"""workspaces, memberships, invitations and the audit log; owned rows move to workspaces

Revision ID: d8dd83c74486
Revises: 7a3f0c2d9e41
Create Date: 2026-12-07 23:50:00

Every user gets a personal workspace whose id is the user's id, with the user
as its owner, so that moving the owner column keeps every value: each row's
`user_id` becomes the same number in `workspace_id`, and every id, key, token
and badge URL keeps working. An account already deleted (awaiting its purge)
gets a deleted workspace, which the purge removes.

Downgrade gives each workspace's rows back to a user: the personal
workspace's, else its longest-standing owner; rows of a workspace with
neither (a deleted one awaiting its purge) are deleted. Target names must be
unique per user again, so a target from a shared workspace whose name its
user already has gets " (workspace N)" appended.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "d8dd83c74486"
down_revision: str | None = "7a3f0c2d9e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Owned tables, parents first, with their owner indexes: (name, columns, unique).
OWNED = {
    "api_keys": [("ix_api_keys_{}", ["{}"], False)],
    "signing_secrets": [("ix_signing_secrets_{}", ["{}"], False)],
    "targets": [("ix_targets_{}", ["{}"], False)],
    "schedules": [("ix_schedules_{}", ["{}"], False)],
    "runs": [("ix_runs_{}_desc", ["{}", "id"], False)],
    "attempts": [("ix_attempts_{}", ["{}"], False)],
    "notification_channels": [("ix_notification_channels_{}", ["{}"], False)],
    "alerts": [],
}
TARGET_NAMES = {"user_id": "uq_targets_user_name", "workspace_id": "uq_targets_workspace_name"}

# The user a workspace's rows go back to on downgrade.
USER_OF_WORKSPACE = """(
    SELECT COALESCE(w.personal_for_user_id, (
        SELECT m.user_id FROM memberships m
        WHERE m.workspace_id = w.id AND m.role = 'owner'
        ORDER BY m.created_at, m.id LIMIT 1))
    FROM workspaces w WHERE w.id = {table}.workspace_id)"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "workspaces",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("personal_for_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["personal_for_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("personal_for_user_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspaces_deleted_at"), ["deleted_at"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_events_workspace_id_desc", ["workspace_id", "id"], unique=False
        )

    op.create_table(
        "invitations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("invited_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["invited_by_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("workspace_id", "email", name="uq_invitations_workspace_email"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_memberships_workspace_user"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    _personal_workspaces(sqlite)
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("created_by_user_id", sa.BigInteger(), nullable=True))
    op.execute("UPDATE api_keys SET created_by_user_id = user_id")
    for table in OWNED:
        _move_owner(table, sqlite, old="user_id", new="workspace_id", value="user_id")
    with _alter("api_keys", sqlite) as batch_op:
        batch_op.create_foreign_key(
            "api_keys_created_by_user_id_fkey",
            "users",
            ["created_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def _personal_workspaces(sqlite: bool) -> None:
    op.execute(
        "INSERT INTO workspaces"
        " (id, name, personal_for_user_id, created_at, updated_at, deleted_at)"
        " SELECT id, 'Personal', id, created_at, created_at,"
        " CASE WHEN is_active THEN NULL ELSE updated_at END FROM users"
    )
    op.execute(
        "INSERT INTO memberships (workspace_id, user_id, role, created_at)"
        " SELECT id, id, 'owner', created_at FROM users"
    )
    if not sqlite:  # SQLite's AUTOINCREMENT counter follows explicit ids by itself
        op.execute(
            "SELECT setval(pg_get_serial_sequence('workspaces', 'id'),"
            " COALESCE((SELECT max(id) FROM workspaces), 0) + 1, false)"
        )


def _move_owner(table: str, sqlite: bool, *, old: str, new: str, value: str) -> None:
    """Move the owner column `old` to `new`, referencing users or workspaces."""
    parent = "workspaces" if new == "workspace_id" else "users"
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(new, sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE {table} SET {new} = {value}")
    op.execute(f"DELETE FROM {table} WHERE {new} IS NULL")
    with _alter(table, sqlite) as batch_op:
        for name, _columns, _unique in OWNED[table]:
            batch_op.drop_index(name.format(old))
        if table == "targets":
            batch_op.drop_constraint(TARGET_NAMES[old], type_="unique")
        # Dropping the column drops its foreign key with it (both databases).
        batch_op.drop_column(old)
        batch_op.alter_column(new, existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_foreign_key(
            f"{table}_{new}_fkey", parent, [new], ["id"], ondelete="CASCADE"
        )
        for name, columns, unique in OWNED[table]:
            batch_op.create_index(name.format(new), [c.format(new) for c in columns], unique=unique)
        if table == "targets":
            batch_op.create_unique_constraint(TARGET_NAMES[new], [new, "name"])


def _alter(table: str, sqlite: bool):
    if not sqlite:
        return op.batch_alter_table(table)  # plain ALTERs on PostgreSQL
    # A rebuild keeps AUTOINCREMENT (ids never reused) only when told again.
    return op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _rename_colliding_targets()
    for table in OWNED:
        _move_owner(
            table,
            sqlite,
            old="workspace_id",
            new="user_id",
            value=USER_OF_WORKSPACE.format(table=table),
        )
    with _alter("api_keys", sqlite) as batch_op:
        batch_op.drop_column("created_by_user_id")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
    op.drop_table("memberships")
    op.drop_table("invitations")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_workspace_id_desc")
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
    op.drop_table("audit_events")
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspaces_deleted_at"))
    op.drop_table("workspaces")


def _rename_colliding_targets() -> None:
    """A shared workspace's target whose name its user already has elsewhere."""
    owner = USER_OF_WORKSPACE.format(table="targets")
    other = USER_OF_WORKSPACE.format(table="other")
    op.execute(
        "UPDATE targets SET name = substr(name, 1, 150) || ' (workspace ' || workspace_id || ')'"
        " WHERE workspace_id NOT IN"
        " (SELECT id FROM workspaces WHERE personal_for_user_id IS NOT NULL)"
        " AND EXISTS (SELECT 1 FROM targets other"
        f" WHERE other.name = targets.name AND other.id <> targets.id AND {other} = {owner})"
    )
