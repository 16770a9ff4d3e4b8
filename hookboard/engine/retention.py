"""Delete runs and attempts (failed runs kept longer), and audit events, older
than their retention periods, in small batches.

Each batch is its own short transaction, so the ticker and the workers are
never held up by one long delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select

from hookboard.domain.firing import IN_FLIGHT
from hookboard.models import Attempt, AuditEvent, Run, RunStatus

runs = Run.__table__
attempts = Attempt.__table__
audit_events = AuditEvent.__table__

BATCH_SIZE = 1000
MAX_BATCHES_PER_CALL = 200


def purge_expired(
    engine: Engine,
    retention: timedelta,
    now: datetime | None = None,
    *,
    failed_retention: timedelta | None = None,
) -> int:
    """Delete finished runs created before now - retention, failed ones before
    now - failed_retention (RETENTION_DAYS_FAILED: a failure is what someone comes
    back to look at; default: the same as the others); returns how many."""
    now = now or datetime.now(UTC)
    failed_retention = failed_retention or retention
    kept_apart = (*IN_FLIGHT, RunStatus.failed)
    finished = (runs.c.created_at < now - retention, runs.c.status.not_in(kept_apart))
    failed = (runs.c.created_at < now - failed_retention, runs.c.status == RunStatus.failed)
    return _purge(engine, finished) + _purge(engine, failed)


def _purge(engine: Engine, conditions: tuple) -> int:
    deleted = 0
    for _ in range(MAX_BATCHES_PER_CALL):
        count = _purge_batch(engine, conditions)
        deleted += count
        if count < BATCH_SIZE:
            break
    return deleted


def _purge_batch(engine: Engine, conditions: tuple) -> int:
    with engine.begin() as connection:
        ids = list(
            connection.execute(
                select(runs.c.id).where(*conditions).order_by(runs.c.created_at).limit(BATCH_SIZE)
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
