"""Delete runs and attempts older than the retention period, in small batches.

Each batch is its own short transaction, so the ticker and the workers are
never held up by one long delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select

from hookboard.domain.firing import IN_FLIGHT
from hookboard.models import Attempt, Run

runs = Run.__table__
attempts = Attempt.__table__

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
