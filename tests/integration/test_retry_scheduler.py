"""Retries stay on time when the worker that runs RQ's scheduler dies.

RQ's scheduler is a process forked by one worker, holding a lock in Redis. With
that worker killed -9, the surviving worker's scheduler watch
(engine/scheduler_watch.py) sees the scheduler's heartbeat stop and takes the
lock over, so retries keep leaving about when they are due instead of waiting
for the lock to expire or for the run's lease to run out.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from hookboard.engine.scheduler_watch import STALLED_AFTER_SECONDS
from tests.support.engine import (
    EngineProcesses,
    attempts_of,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver

RETRY = {"max_attempts": 3, "backoff": "fixed", "base_delay_seconds": 1, "jitter": False}


def _parent_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def _scheduler_holder(redis: Redis, queue_name: str) -> tuple[str, int] | None:
    """(scheduler name, its process id) of the scheduler holding the queue's lock."""
    holder = redis.get(RQScheduler.get_locking_key(queue_name))
    if holder is None:
        return None
    pid = redis.hget(SCHEDULER_KEY_TEMPLATE % holder.decode(), "pid")
    return (holder.decode(), int(pid)) if pid else None


def test_retries_stay_on_time_after_the_scheduler_s_worker_is_killed(
    engine, database_url, engine_redis_url
):
    workspace_id = make_workspace(engine)
    with (
        Receiver(status=503) as receiver,
        EngineProcesses(database_url, engine_redis_url) as processes,
        Redis.from_url(engine_redis_url) as redis,
    ):
        processes.ticker()
        workers = [processes.worker(), processes.worker()]
        name, scheduler_pid = wait_until(lambda: _scheduler_holder(redis, processes.queue_name))
        [holding] = [w for w in workers if w.pid == _parent_of(scheduler_pid)]
        processes.kill(holding)  # its scheduler dies with it; the lock stays behind
        new_holder = wait_until(
            lambda: (h := _scheduler_holder(redis, processes.queue_name)) and h[0] != name and h,
            timeout=STALLED_AFTER_SECONDS + 5,
        )
        assert _parent_of(new_holder[1]) == next(w.pid for w in workers if w is not holding)

        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="once",
            run_at=datetime.now(UTC),
            url=receiver.url + "/fails",
            **RETRY,
        )
        started = time.monotonic()

        def attempts_done():
            runs = runs_of(engine, schedule_id)
            attempts = attempts_of(engine, runs[0].id) if runs else []
            return attempts if len(attempts) == RETRY["max_attempts"] else None

        attempts = wait_until(attempts_done, timeout=20, interval=0.2)

    print(f"\nthree attempts in {time.monotonic() - started:.1f}s")
    starts = sorted(attempt.started_at for attempt in attempts)
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
    # Due 1 s after each failure; RQ's scheduler keeps whole seconds and moves jobs
    # once a second. Without the watch these waited for the lease (30 s and more).
    assert max(gaps) < 3.0, gaps
