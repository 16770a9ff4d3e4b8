"""Deleting a deleted workspace's rows, and closed accounts, a small batch per short transaction.

Deleting a workspace (services.workspaces) or closing an account
(services.accounts.closing) stops it at once: keys, sign-ins and deliveries.
Its rows are then deleted here: first by the request that asked, for a moment,
then by every ticker's housekeeping until none is left. A large workspace never
holds a lock for long, several tickers can purge side by side (a batch that
lost the race deletes nothing), and a purge cut short by a crash is taken up
again on the next pass.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, Table, delete, exists, select

from hookboard.models import (
    Alert,
    Attempt,
    AuditEvent,
    Membership,
    NotificationChannel,
    Run,
    Schedule,
    Target,
    User,
    Workspace,
)

BATCH_SIZE = 1000
MAX_PER_PASS = 10
users, workspaces, memberships = User.__table__, Workspace.__table__, Membership.__table__
# The tables that can hold many rows of one workspace, children first. What is
# left (keys, secrets, members, invitations) is a handful of rows and goes with
# the workspace's row.
_BY_WORKSPACE: tuple[Table, ...] = tuple(
    model.__table__
    for model in (Attempt, Alert, Run, Schedule, Target, NotificationChannel, AuditEvent)
)


def purge_deleted(engine: Engine, *, deadline: float | None = None) -> int:
    """Purge deleted workspaces, then closed accounts left with none; how many are gone."""
    with engine.connect() as connection:
        deleted = connection.execute(
            select(workspaces.c.id)
            .where(workspaces.c.deleted_at.is_not(None))
            .order_by(workspaces.c.id)
            .limit(MAX_PER_PASS)
        ).scalars()
        workspace_ids = list(deleted)
    gone = sum(purge_workspace(engine, id_, deadline=deadline) for id_ in workspace_ids)
    return gone + purge_closed_accounts(engine)


def purge_workspace(engine: Engine, workspace_id: int, *, deadline: float | None = None) -> bool:
    """Delete a deleted workspace's rows until done (True) or past `deadline`, a
    time.monotonic() instant (False: the rest is left to the next pass)."""
    for table in _BY_WORKSPACE:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if _delete_batch(engine, table, workspace_id) < BATCH_SIZE:
                break
    with engine.begin() as connection:
        # Only a deleted workspace: a guard against a wrong id, never a live one.
        connection.execute(
            delete(workspaces).where(
                workspaces.c.id == workspace_id, workspaces.c.deleted_at.is_not(None)
            )
        )
    return True


def purge_closed_accounts(engine: Engine) -> int:
    """Delete closed accounts whose workspaces are purged (no membership is left)."""
    with engine.begin() as connection:
        member = exists().where(memberships.c.user_id == users.c.id)
        closed = select(users.c.id).where(users.c.is_active.is_(False), ~member).limit(MAX_PER_PASS)
        return connection.execute(delete(users).where(users.c.id.in_(closed))).rowcount


def _delete_batch(engine: Engine, table: Table, workspace_id: int) -> int:
    batch = (
        select(table.c.id)
        .where(table.c.workspace_id == workspace_id)
        .order_by(table.c.id)
        .limit(BATCH_SIZE)
    )
    with engine.begin() as connection:
        return connection.execute(delete(table).where(table.c.id.in_(batch))).rowcount
