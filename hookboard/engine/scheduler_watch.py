"""Keeps RQ's scheduler running while any worker lives.

Retries wait in RQ's scheduled-job registry, and one scheduler process (forked
by one worker, holding a lock in Redis) moves them onto the queue when due. RQ
itself restarts a dead scheduler only at the worker's maintenance, every 10
minutes, and a scheduler killed with its worker leaves its lock behind for a
minute. So every worker runs this watch, once a second:

- its own scheduler died (a Redis blip ends the process): start it again;
- another worker's scheduler holds the lock but its heartbeat has not moved for
  STALLED_AFTER_SECONDS (it was killed): take the lock over and start ours.

A stalled heartbeat is judged by this host's monotonic clock, from what it saw
change, so hosts whose clocks disagree never take each other's lock. Only the
lock held by that same dead holder is deleted (compare and delete), and the
scheduler's own heartbeat drops a lock another took over, so at worst two
schedulers run for a second; moving a job twice is harmless (the claim of a run
is idempotent).
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.worker import BaseWorker

from hookboard.core.outage import Outage

log = logging.getLogger("hookboard.worker")

CHECK_SECONDS = 1.0
STALLED_AFTER_SECONDS = 5.0  # RQ's scheduler beats every second

_DELETE_IF_HELD_BY = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class SchedulerWatch:
    def __init__(self, worker: BaseWorker, queue_name: str, redis: Redis):
        self._worker = worker
        self._lock_key = RQScheduler.get_locking_key(queue_name)
        self._redis = redis
        self._delete_if_held_by = redis.register_script(_DELETE_IF_HELD_BY)
        self._seen: tuple[bytes, bytes | None] | None = None  # (holder, its last heartbeat)
        self._seen_since = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-watch", daemon=True)

    def start(self) -> SchedulerWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        outage = Outage(log, "watching RQ's scheduler")
        while not self._stopping.wait(CHECK_SECONDS):
            try:
                self.check()
            except Exception as error:
                self._stopping.wait(outage.failed(error))
                continue
            outage.worked()

    def check(self) -> None:
        scheduler = self._worker.scheduler  # made by work(with_scheduler=True)
        if scheduler is None or _is_running(scheduler):
            return
        holder = self._redis.get(self._lock_key)
        if holder is not None and holder.decode() != scheduler.name:
            if not self._stalled(holder):
                return
            log.warning("RQ's scheduler %s stopped beating; this worker takes over", holder)
            self._delete_if_held_by(keys=[self._lock_key], args=[holder])
        elif holder is not None:
            log.warning("this worker's RQ scheduler died; starting it again")
        scheduler.acquire_locks(auto_start=True)

    def _stalled(self, holder: bytes) -> bool:
        beat = self._redis.hget(SCHEDULER_KEY_TEMPLATE % holder.decode(), "last_heartbeat")
        seen = (holder, beat)
        clock = time.monotonic()
        if seen != self._seen:
            self._seen, self._seen_since = seen, clock
            return False
        return clock - self._seen_since >= STALLED_AFTER_SECONDS


def _is_running(scheduler: RQScheduler) -> bool:
    process = scheduler._process  # RQ keeps no public handle on the forked process
    return process is not None and process.is_alive()
