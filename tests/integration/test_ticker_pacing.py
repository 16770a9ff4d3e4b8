"""How often the ticker ticks under load: short gaps while the workers keep up
(low fire lag), longer ones when a tick fills a job or jobs wait in RQ."""

from __future__ import annotations

from hookboard.engine.queueing import delivery_queue, enqueue_runs
from hookboard.engine.ticker import (
    BUSY_TICK_GAP_SECONDS,
    MIN_TICK_GAP_SECONDS,
    WORKERS_BEHIND_JOBS,
    tick_gap,
)


def test_enqueue_runs_reports_the_jobs_waiting(redis):
    queue = delivery_queue(redis, "pacing")
    assert enqueue_runs(queue, [], batch_size=2) == 0
    assert enqueue_runs(queue, [1, 2, 3], batch_size=2) == 2
    assert enqueue_runs(queue, [4], batch_size=2) == 3
    assert [job.args for job in queue.jobs] == [([1, 2],), ([3],), ([4],)]


def test_workers_keeping_up_get_the_short_gap():
    assert tick_gap(claimed=25, jobs_waiting=1, batch_size=100) == MIN_TICK_GAP_SECONDS
    assert tick_gap(claimed=0, jobs_waiting=0, batch_size=100) == MIN_TICK_GAP_SECONDS


def test_a_full_job_or_a_backlog_gets_the_long_gap():
    assert tick_gap(claimed=100, jobs_waiting=1, batch_size=100) == BUSY_TICK_GAP_SECONDS
    backlog = WORKERS_BEHIND_JOBS
    assert tick_gap(claimed=5, jobs_waiting=backlog, batch_size=100) == BUSY_TICK_GAP_SECONDS
    assert BUSY_TICK_GAP_SECONDS > MIN_TICK_GAP_SECONDS
