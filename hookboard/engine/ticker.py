"""The ticker process: sleep until the next due instant, dispatch, repeat.

It never polls on a fixed tick: it sleeps until the earliest next_run_at
(at most TICKER_MAX_IDLE_SECONDS, so edits by processes that do not wake it
are seen soon), and a message on the wake channel cuts the sleep short. Every
few seconds it also queues again the runs whose lease ran out, and now and
then it purges runs older than the retention period.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from sqlalchemy import Engine

from hookboard.core.db import get_engine
from hookboard.core.metrics import MetricsReporter
from hookboard.core.outage import MAX_DELAY_SECONDS as OUTAGE_MAX_DELAY_SECONDS
from hookboard.core.outage import Outage
from hookboard.core.redis_client import get_redis
from hookboard.core.startup import exit_on_bad_settings, exit_on_wrong_encryption_key
from hookboard.engine.dispatch import dispatch_due, next_due_at, recover_stale_runs
from hookboard.engine.purge import purge_deleted
from hookboard.engine.queueing import delivery_queue, enqueue_runs, wake_channel
from hookboard.engine.retention import purge_audit_events, purge_expired
from hookboard.settings import Settings

log = logging.getLogger("hookboard.ticker")

DISPATCH_LIMIT = 500  # due schedules per transaction
# Under load, gather due firings this long into one transaction and fewer,
# fuller RQ jobs (each costs RQ a few ms), instead of one tiny batch per
# millisecond. The longer gap is taken only when it pays: after a tick that
# found a full job's worth (DELIVERY_BATCH_SIZE), or while jobs wait in RQ
# (the workers are behind, and fuller jobs cost them less per run). A ticker
# whose workers keep up takes the shorter gap, which keeps the fire lag low.
MIN_TICK_GAP_SECONDS = 0.02
BUSY_TICK_GAP_SECONDS = 0.05
WORKERS_BEHIND_JOBS = 3
RECOVERY_INTERVAL_SECONDS = 5.0
# Runs taken back per transaction. A full batch means more wait: the next tick
# takes the next batch at once, so recovery keeps up with the engine's own rate
# instead of 1,000 runs per RECOVERY_INTERVAL_SECONDS.
RECOVERY_BATCH = 1000
# Workers retry a round at most every MAX_DELAY_SECONDS during an outage; a few
# of those, and the outcomes they held are in before any lease is taken back.
RECOVERY_HOLD_AFTER_OUTAGE_SECONDS = 5 * OUTAGE_MAX_DELAY_SECONDS
RETENTION_INTERVAL_SECONDS = 600.0
# Deleted workspaces and closed accounts whose data is left: looked for this often; a
# pass deletes for at most PURGE_SECONDS so that ticking goes on.
PURGE_INTERVAL_SECONDS = 60.0
PURGE_SECONDS = 2.0
ERROR_BACKOFF_SECONDS = 1.0


def tick_gap(claimed: int, jobs_waiting: int, batch_size: int) -> float:
    """The least time before the next tick, from what this one found and left queued."""
    if claimed >= batch_size or jobs_waiting >= WORKERS_BEHIND_JOBS:
        return BUSY_TICK_GAP_SECONDS
    return MIN_TICK_GAP_SECONDS


class Ticker:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        metrics: MetricsReporter,
        engine: Engine | None = None,
    ):
        self.settings = settings
        self.metrics = metrics
        self.engine = engine or get_engine()
        self.redis = redis
        self.queue = delivery_queue(redis, settings.queue_name)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._next_recovery = 0.0
        self._last_tick = 0.0
        self._tick_gap = MIN_TICK_GAP_SECONDS
        self._next_retention = time.monotonic() + 60
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS

    def run_forever(self) -> None:
        """Never returns before a stop: every error (the database, Redis, a bug) is
        logged once per outage and retried with backoff."""
        self._listen_for_wakeups()
        outage = Outage(log, "the ticker's round")
        while not self.stopping.is_set():
            try:
                if not self.tick():
                    self._sleep_until_due()
            except Exception as error:
                self.stopping.wait(outage.failed(error))
                continue
            if outage.ongoing:
                outage.worked()
                self._hold_recovery()

    def _hold_recovery(self) -> None:
        """After an outage, give the workers time to record the outcomes they held
        before taking back runs whose lease ran out meanwhile (else sent twice)."""
        self._next_recovery = max(
            self._next_recovery, time.monotonic() + RECOVERY_HOLD_AFTER_OUTAGE_SECONDS
        )

    def tick(self) -> bool:
        """One round; True when more is due right away."""
        self._last_tick = time.monotonic()
        now = datetime.now(UTC)
        result = dispatch_due(
            self.engine,
            now,
            limit=DISPATCH_LIMIT,
            misfire_grace=timedelta(seconds=self.settings.misfire_grace_seconds),
            lease_grace=timedelta(seconds=self.settings.lease_grace_seconds),
        )
        waiting = enqueue_runs(self.queue, result.run_ids, self.settings.delivery_batch_size)
        self._tick_gap = tick_gap(result.claimed, waiting, self.settings.delivery_batch_size)
        self._count(dispatched=len(result.run_ids), skipped=result.skipped)
        self._maintain()
        self.metrics.beat()  # only a tick that worked counts as alive
        return result.claimed >= DISPATCH_LIMIT

    def _maintain(self) -> None:
        clock = time.monotonic()
        if clock >= self._next_recovery:
            self._next_recovery = clock + RECOVERY_INTERVAL_SECONDS
            stale = recover_stale_runs(
                self.engine,
                datetime.now(UTC),
                lease_grace=timedelta(seconds=self.settings.lease_grace_seconds),
                limit=RECOVERY_BATCH,
            )
            if len(stale) >= RECOVERY_BATCH:
                self._next_recovery = clock  # more are waiting: go on next tick
            if stale:
                log.warning("queueing %d runs again whose lease ran out", len(stale))
                enqueue_runs(self.queue, stale, self.settings.delivery_batch_size)
                self._count(recovered=len(stale))
        if clock >= self._next_retention:
            self._next_retention = clock + RETENTION_INTERVAL_SECONDS
            purged = purge_expired(
                self.engine,
                timedelta(days=self.settings.retention_days),
                failed_retention=timedelta(days=self.settings.retention_days_failed),
            )
            if purged:
                log.info("retention: deleted %d old runs", purged)
            days = timedelta(days=self.settings.audit_retention_days)
            if purged := purge_audit_events(self.engine, days):
                log.info("retention: deleted %d old audit events", purged)
        if clock >= self._next_purge:
            self._next_purge = clock + PURGE_INTERVAL_SECONDS
            gone = purge_deleted(self.engine, deadline=clock + PURGE_SECONDS)
            if gone:
                log.info("deleted the data of %d deleted workspaces or closed accounts", gone)

    def _count(self, **runs: int) -> None:
        for name, count in runs.items():
            if count:
                self.metrics.tally.add(f"runs:{name}", count)

    def _sleep_until_due(self) -> None:
        due = next_due_at(self.engine)
        max_idle = self.settings.ticker_max_idle_seconds
        timeout = max_idle
        if due is not None:
            timeout = min(max((due - datetime.now(UTC)).total_seconds(), 0.0), max_idle)
        timeout = min(timeout, max(self._next_recovery - time.monotonic(), 0.0))
        timeout = max(timeout, self._last_tick + self._tick_gap - time.monotonic())
        if timeout > 0 and self.wake.wait(timeout):
            self.wake.clear()

    def _listen_for_wakeups(self) -> None:
        thread = threading.Thread(target=self._wakeup_listener, name="wakeups", daemon=True)
        thread.start()

    def _wakeup_listener(self) -> None:
        # Without wake-ups the ticker still sees changes within its max idle time;
        # whatever breaks the subscription (redis-py raises more than RedisError when
        # its connection is cut mid-read), the thread subscribes again.
        outage = Outage(log, "the wake-up subscription", max_delay=ERROR_BACKOFF_SECONDS)
        while not self.stopping.is_set():
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(wake_channel(self.settings.queue_name))
                outage.worked()
                for _message in pubsub.listen():
                    self.wake.set()
            except Exception as error:
                if not self.stopping.is_set():
                    self.stopping.wait(outage.failed(error))


def main() -> None:
    settings = exit_on_bad_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s ticker %(message)s")
    exit_on_wrong_encryption_key(get_engine(), settings)
    metrics = MetricsReporter(get_redis(), settings.queue_name, "ticker").start()
    ticker = Ticker(settings, get_redis(), metrics)

    def stop(*_):
        ticker.stopping.set()
        ticker.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("ticker started")
    try:
        ticker.run_forever()
    finally:
        metrics.stop()
