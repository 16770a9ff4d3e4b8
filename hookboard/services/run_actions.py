"""Run now and replay: record in the database first, then queue.

Shared by the API and the dashboard. If queueing fails after the commit (Redis
down), the run's lease runs out and the ticker queues it then, so the caller
still gets its run id and nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import Engine
from sqlmodel import Session

from hookboard.engine.queueing import enqueue_runs
from hookboard.models import Run, Schedule
from hookboard.services import audit, crud
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

log = logging.getLogger("hookboard.runs")


class GoneError(LookupError):
    """The schedule or run was deleted meanwhile."""


def trigger_now(
    engine: Engine, queue: Queue, *, access: Access, schedule_id: int, lease_grace: timedelta
) -> int:
    permissions.check(access, Action.write)
    now = datetime.now(UTC)
    with Session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        if schedule is None or schedule.workspace_id != access.workspace_id:
            raise GoneError(f"schedule {schedule_id} no longer exists")
        run = crud.trigger_run(session, schedule=schedule, now=now, lease_until=now + lease_grace)
        audit.record(
            session,
            access,
            "schedule.trigger",
            workspace_id=access.workspace_id,
            object_type="schedule",
            object_id=schedule_id,
            changes={"run_id": [None, run.id]},
        )
        session.commit()
        run_id = run.id
    _enqueue(queue, run_id)
    return run_id


def replay(
    engine: Engine, queue: Queue, *, access: Access, run_id: int, lease_grace: timedelta
) -> int:
    """Raises crud.NotReplayableError unless the run failed."""
    permissions.check(access, Action.write)
    with Session(engine) as session:
        run = session.get(Run, run_id)
        if run is None or run.workspace_id != access.workspace_id:
            raise GoneError(f"run {run_id} no longer exists")
        before = run.status
        crud.replay_run(session, run=run, lease_until=datetime.now(UTC) + lease_grace)
        audit.record(
            session,
            access,
            "run.replay",
            workspace_id=access.workspace_id,
            object_type="run",
            object_id=run_id,
            changes={"status": [before, run.status]},
        )
        session.commit()
    _enqueue(queue, run_id)
    return run_id


def _enqueue(queue: Queue, run_id: int) -> None:
    try:
        enqueue_runs(queue, [run_id], batch_size=1)
    except RedisError:
        log.warning(
            "run %s recorded but not queued (Redis unavailable); recovery queues it", run_id
        )
