"""Stopping a workspace at once; its rows go later, in batches (engine.purge).

Stopping is one short transaction: the workspace is marked deleted (no key or
session acts in it), its API keys are revoked, its schedules are paused, and
its unfinished runs and unsent alerts are deleted, so no new request leaves (a
request already in the air finishes; its outcome finds its run gone and is
dropped).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from hookboard.domain.firing import IN_FLIGHT
from hookboard.engine.purge import purge_closed_accounts, purge_workspace
from hookboard.models import (
    Alert,
    AlertStatus,
    ApiKey,
    Attempt,
    Run,
    Schedule,
    ScheduleStatus,
    Workspace,
)

# How long the deleting call itself purges before leaving the rest to the tickers.
PURGE_SECONDS_IN_CALL = 2.0
DELETED_REASON = "workspace deleted"


def stop_workspaces(session: Session, workspace_ids: Collection[int], now: datetime) -> None:
    """Mark the workspaces deleted and stop their deliveries; the caller commits."""
    if not workspace_ids:
        return
    ids = sorted(workspace_ids)
    runs, alerts, keys = Run.__table__, Alert.__table__, ApiKey.__table__
    schedules = Schedule.__table__
    unfinished = select(runs.c.id).where(runs.c.workspace_id.in_(ids), runs.c.status.in_(IN_FLIGHT))
    statements = [
        update(Workspace.__table__)
        .where(Workspace.__table__.c.id.in_(ids), Workspace.__table__.c.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now),
        update(keys)
        .where(keys.c.workspace_id.in_(ids), keys.c.revoked_at.is_(None))
        .values(revoked_at=now),
        update(schedules)
        .where(schedules.c.workspace_id.in_(ids))
        .values(status=ScheduleStatus.paused, paused_reason=DELETED_REASON, next_run_at=None),
        delete(Attempt.__table__).where(Attempt.__table__.c.run_id.in_(unfinished)),
        delete(runs).where(runs.c.id.in_(unfinished)),
        delete(alerts).where(
            alerts.c.workspace_id.in_(ids),
            alerts.c.status.in_((AlertStatus.pending, AlertStatus.sending)),
        ),
    ]
    for statement in statements:
        session.execute(statement)


def purge_now(session: Session, workspace_ids: Collection[int]) -> bool:
    """Delete the stopped workspaces' rows for a moment, then the closed accounts
    left without any; True if all are gone (else the tickers finish)."""
    engine = session.get_bind()
    deadline = time.monotonic() + PURGE_SECONDS_IN_CALL
    done = all([purge_workspace(engine, id_, deadline=deadline) for id_ in sorted(workspace_ids)])
    if done:
        purge_closed_accounts(engine)
    return done
