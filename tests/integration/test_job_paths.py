"""RQ stores job functions as dotted strings: the strings must name the job
function, and jobs queued under the path of the release before still run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job
from rq.utils import import_attribute

from hookboard.engine import jobs
from hookboard.engine.dispatch import dispatch_due
from hookboard.engine.queueing import DELIVER_JOB, delivery_queue, enqueue_retry, enqueue_runs
from tests.support.engine import EngineProcesses, make_schedule, make_workspace, runs_of, wait_until
from tests.support.receiver import Receiver

OLD_DELIVER_JOB = "hookboard.jobs.deliver_runs"  # the path of release 0.1


def test_the_job_path_names_the_delivery_job():
    assert import_attribute(DELIVER_JOB) is jobs.deliver_runs
    assert import_attribute(OLD_DELIVER_JOB) is jobs.deliver_runs


def test_fresh_runs_and_retries_are_queued_under_the_job_path(redis):
    queue = delivery_queue(redis, "hb-test-job-paths")
    enqueue_runs(queue, [1, 2], batch_size=10)
    enqueue_retry(queue, 3, delay_seconds=60)
    [fresh] = queue.get_jobs()
    [retry_id] = queue.scheduled_job_registry.get_job_ids()
    assert fresh.func_name == DELIVER_JOB
    assert Job.fetch(retry_id, connection=redis).func_name == DELIVER_JOB


def test_a_job_queued_under_the_old_path_is_delivered(engine, database_url, redis_url, redis):
    workspace_id = make_workspace(engine)
    with Receiver() as receiver, EngineProcesses(database_url, redis_url) as processes:
        run_at = datetime.now(UTC) + timedelta(milliseconds=300)
        schedule_id = make_schedule(
            engine, workspace_id, kind="once", run_at=run_at, url=receiver.url + "/old"
        )
        grace = timedelta(seconds=30)
        now = run_at + timedelta(seconds=1)
        due = dispatch_due(engine, now, limit=10, misfire_grace=grace, lease_grace=grace)
        run_ids = due.run_ids
        assert len(run_ids) == 1
        Queue(processes.queue_name, connection=redis).enqueue(OLD_DELIVER_JOB, run_ids)
        processes.worker()

        [request] = receiver.wait_for(1)
        assert request.path == "/old"
        wait_until(lambda: runs_of(engine, schedule_id)[0].status == "succeeded", timeout=30)
