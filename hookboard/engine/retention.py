"""Delete runs and attempts, and audit events, older than their retention periods,
in small batches.

Each batch is its own short transaction, so the ticker and the workers are
never held up by one long delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select

from hookboard.domain.firing import IN_FLIGHT
from hookboard.models import Attempt, AuditEvent, Run

runs = Run.__table__
attempts = Attempt.__table__
audit_events = AuditEvent.__table__

BATCH_SIZE = 1000
MAX_BATCHES_PER_CALL = 200


def purge_expired(engine: Engine, retention: timedelta, now: datetime | None = None) -> int:
    """Delete finished runs created before now - retention; returns how many."""
    cutoff = (now or datetime.now(UTC)) - retention
    deleted = 0
    for _ in range(MAX_BATCHES_PER_CALL):
        count = _purge_batch(engine, cutoff)
        deleted += count
        if count < BATCH_SIZE:
            break
    return deleted


def _purge_batch(engine: Engine, cutoff: datetime) -> int:
    with engine.begin() as connection:
        ids = list(
            connection.execute(
                select(runs.c.id)
                .where(runs.c.created_at < cutoff, runs.c.status.not_in(IN_FLIGHT))
                .order_by(runs.c.created_at)
                .limit(BATCH_SIZE)
            ).scalars()
        )
        if ids:
            connection.execute(delete(attempts).where(attempts.c.run_id.in_(ids)))
            connection.execute(delete(runs).where(runs.c.id.in_(ids)))
    return len(ids)


def purge_audit_events(
    engine: Engine,
    retention: timedelta,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Delete audit events older than now - retention (AUDIT_RETENTION_DAYS),
    batch_size at a time, each batch its own transaction; returns how many."""
    cutoff = (now or datetime.now(UTC)) - retention
    deleted = 0
    for _ in range(MAX_BATCHES_PER_CALL):
        with engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(audit_events.c.id)
                    .where(audit_events.c.at < cutoff)
                    .order_by(audit_events.c.at)
                    .limit(batch_size)
                ).scalars()
            )
            if ids:
                connection.execute(delete(audit_events).where(audit_events.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch_size:
            break
    return deleted
