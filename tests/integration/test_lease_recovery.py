"""Runs whose lease ran out are taken back as fast as they come, not 1,000 per
five seconds: after a worker dies under load, its backlog is queued again at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from sqlalchemy import func, insert, select

from hookboard.engine.ticker import RECOVERY_BATCH
from hookboard.models import Run, RunStatus
from tests.support.engine import EngineProcesses, make_schedule, make_workspace, wait_until

runs_table = Run.__table__
STRANDED = 3 * RECOVERY_BATCH + 7


def _strand_runs(engine, workspace_id: int, schedule_id: int) -> None:
    """Runs a dead worker left behind: recorded, their lease long run out."""
    now = datetime.now(UTC)
    rows = [
        {
            "workspace_id": workspace_id,
            "schedule_id": schedule_id,
            "scheduled_for": now - timedelta(minutes=10, seconds=n),
            "trigger": "schedule",
            "status": RunStatus.pending,
            "attempt_count": 0,
            "max_attempts": 1,
            "created_at": now - timedelta(minutes=10),
            "lease_expires_at": now - timedelta(minutes=5),
        }
        for n in range(STRANDED)
    ]
    with engine.begin() as connection:
        connection.execute(insert(runs_table), rows)


def test_a_backlog_of_expired_leases_is_queued_again_within_seconds(
    engine, database_url, engine_redis_url
):
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(
        engine,
        workspace_id,
        kind="once",
        run_at=datetime.now(UTC) + timedelta(days=1),
        url="http://127.0.0.1:9/",
    )
    _strand_runs(engine, workspace_id, schedule_id)
    with (
        EngineProcesses(database_url, engine_redis_url) as processes,
        Redis.from_url(engine_redis_url) as redis,
    ):
        processes.ticker()  # no worker: what is queued stays in the queue

        def taken_back():
            with engine.connect() as connection:
                still_expired = connection.execute(
                    select(func.count())
                    .select_from(runs_table)
                    .where(runs_table.c.lease_expires_at < datetime.now(UTC))
                ).scalar_one()
            return still_expired == 0

        # One pass per tick: seconds. The old pace (one batch per 5 s) needs 20 s.
        wait_until(taken_back, timeout=8, interval=0.2)
        assert redis.llen(f"rq:queue:{processes.queue_name}") > 0
