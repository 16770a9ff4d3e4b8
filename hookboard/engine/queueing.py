"""Hand run ids to the workers through RQ, and wake tickers through Redis.

Jobs carry run ids only: a worker re-reads the run and claims it in the
database, so a job delivered twice (a re-queue after a crash, a duplicate
after Redis lost its memory) never becomes a second delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from redis import Redis
from rq import Queue

DELIVER_JOB = "hookboard.engine.jobs.deliver_runs"
# An accepted batch returns at once (delivery continues in the worker's loop);
# the timeout only guards against a job stuck waiting for capacity.
JOB_TIMEOUT_SECONDS = 600
RESULT_TTL_SECONDS = 0  # results are in the database, not in Redis
FAILURE_TTL_SECONDS = 24 * 3600


def delivery_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, default_timeout=JOB_TIMEOUT_SECONDS)


def chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def enqueue_runs(queue: Queue, run_ids: Sequence[int], batch_size: int) -> int:
    """Queue the runs in batches of `batch_size`, one pipeline round trip.
    Returns how many jobs the queue then holds (the ticker's sign of backlog)."""
    if not run_ids:
        return 0
    jobs = [
        Queue.prepare_data(
            DELIVER_JOB,
            args=(batch,),
            result_ttl=RESULT_TTL_SECONDS,
            failure_ttl=FAILURE_TTL_SECONDS,
        )
        for batch in chunks(run_ids, batch_size)
    ]
    with queue.connection.pipeline() as pipe:
        queue.enqueue_many(jobs, pipeline=pipe)
        pipe.llen(queue.key)
        return pipe.execute()[-1]


def enqueue_retry(queue: Queue, run_id: int, delay_seconds: float) -> None:
    """A later attempt through RQ's own scheduler (workers run `with_scheduler`)."""
    queue.enqueue_in(
        timedelta(seconds=delay_seconds),
        DELIVER_JOB,
        [run_id],
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
    )


def wake_channel(queue_name: str) -> str:
    return f"{queue_name}:wake"


def wake_tickers(redis: Redis, queue_name: str) -> None:
    """Tell sleeping tickers that schedules changed (created, edited, resumed)."""
    redis.publish(wake_channel(queue_name), b"1")
