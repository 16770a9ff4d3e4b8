"""The worker process: an RQ worker on Hookboard's queue plus its delivery runtime,
and the alert sender (a thread of its own polling the alerts outbox)."""

from __future__ import annotations

import logging

from rq import SimpleWorker

from hookboard.alerts.runtime import start_alert_runtime, stop_alert_runtime
from hookboard.core.db import get_engine
from hookboard.core.process_guard import children_die_with_this_process
from hookboard.core.redis_client import get_redis
from hookboard.core.startup import exit_on_bad_settings, exit_on_wrong_encryption_key
from hookboard.engine.jobs import get_runtime, shutdown_runtime
from hookboard.engine.queueing import delivery_queue
from hookboard.engine.scheduler_watch import SchedulerWatch


def main() -> None:
    settings = exit_on_bad_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s worker %(message)s")
    exit_on_wrong_encryption_key(get_engine(), settings)
    children_die_with_this_process()  # RQ's forked scheduler must not outlive us
    get_runtime()  # open the HTTP pools before the first job arrives
    start_alert_runtime(get_engine(), settings)
    queue = delivery_queue(get_redis(), settings.queue_name)
    # SimpleWorker: no fork per job (a fork costs ~15 ms here); with_scheduler
    # moves delayed retries (enqueue_in) onto the queue when they are due.
    worker = SimpleWorker([queue], connection=get_redis())
    watch = SchedulerWatch(worker, settings.queue_name, get_redis()).start()
    try:
        # RQ logs every job at INFO; ours says what matters.
        rq_level = "DEBUG" if settings.log_level == "DEBUG" else "WARNING"
        worker.work(with_scheduler=True, logging_level=rq_level)
    finally:
        watch.stop()
        shutdown_runtime()
        stop_alert_runtime()
