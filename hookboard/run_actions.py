"""Run now and replay: record in the database first, then queue.

Shared by the API and the dashboard. If queueing fails after the commit, the
run's lease runs out and the ticker queues it again, so nothing is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue
from sqlalchemy import Engine
from sqlmodel import Session

from hookboard import crud
from hookboard.models import Run, Schedule
from hookboard.queueing import enqueue_runs


def trigger_now(engine: Engine, queue: Queue, *, schedule_id: int, lease_grace: timedelta) -> int:
    now = datetime.now(UTC)
    with Session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        run = crud.trigger_run(session, schedule=schedule, now=now, lease_until=now + lease_grace)
        session.commit()
        run_id = run.id
    enqueue_runs(queue, [run_id], batch_size=1)
    return run_id


def replay(engine: Engine, queue: Queue, *, run_id: int, lease_grace: timedelta) -> int:
    """Raises crud.NotReplayableError unless the run failed."""
    with Session(engine) as session:
        run = session.get(Run, run_id)
        crud.replay_run(session, run=run, lease_until=datetime.now(UTC) + lease_grace)
        session.commit()
    enqueue_runs(queue, [run_id], batch_size=1)
    return run_id
