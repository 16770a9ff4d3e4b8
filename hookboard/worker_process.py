"""The worker process: an RQ worker on Hookboard's queue."""

from __future__ import annotations

import logging

from rq import SimpleWorker

from hookboard.redis_client import get_redis
from hookboard.settings import get_settings


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s worker %(message)s")
    worker = SimpleWorker([settings.queue_name], connection=get_redis())
    worker.work(with_scheduler=True)
