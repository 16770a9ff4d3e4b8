"""Engine figures for Prometheus, summed in Redis across every process and host.

Workers and tickers count in memory (a dict increment per delivery, under a
lock nobody else contends for) and a background thread adds the counts to one
Redis hash with a single pipeline every FLUSH_INTERVAL_SECONDS, together with
the process's heartbeat. Redis is the one thing every process shares, wherever
it runs, so /metrics on any web process sees the whole fleet;
hookboard.api.metrics_collector reads it back at scrape time.

Redis layout (prefix QUEUE_NAME):
    <q>:metrics:totals        hash: counter name -> total since Redis started
    <q>:heartbeats:<role>     sorted set: "<host>:<pid>" scored by its last beat
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("hookboard.metrics")

FLUSH_INTERVAL_SECONDS = 2.0
# Heartbeats of processes silent this long are dropped from the sets.
HEARTBEAT_FORGET_SECONDS = 3600.0
ROLES = ("ticker", "worker")

LATENCY = "delivery_latency"
FIRE_LAG = "fire_lag"
BUCKETS: dict[str, tuple[float, ...]] = {
    LATENCY: (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    FIRE_LAG: (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
}


def totals_key(namespace: str) -> str:
    return f"{namespace}:metrics:totals"


def heartbeat_key(namespace: str, role: str) -> str:
    return f"{namespace}:heartbeats:{role}"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def bucket_field(name: str, index: int) -> str:
    """Hash field of one histogram bucket (not cumulative; the collector sums them)."""
    return f"{name}:bucket:{index}"


def histogram_counts(name: str, values: Iterable[float]) -> Counter[str]:
    bounds = BUCKETS[name]
    counts: Counter[str] = Counter()
    for value in values:
        counts[bucket_field(name, bisect.bisect_left(bounds, value))] += 1
        counts[f"{name}:sum"] += value
        counts[f"{name}:count"] += 1
    return counts


def delivery_counts(delivered: Iterable, written) -> Counter[str]:
    """What a written batch adds: attempts by class, runs by outcome, latency, and
    the fire lag of first attempts. Items are engine.record.Delivered, `written`
    the engine.record.Written of their commit: only what the database recorded
    counts, and a stale claim's attempt moves no run counter."""
    counts: Counter[str] = Counter()
    latencies, lags = [], []
    retried = {retry.run_id for retry in written.retries}
    for item in delivered:
        outcome, run = item.outcome, item.run
        key = (run.run_id, run.attempt_number)
        if key not in written.recorded:
            continue
        counts[f"attempts:{outcome.error_class}"] += 1
        latencies.append(outcome.latency_ms / 1000)
        if key in written.moved:
            if outcome.ok:
                counts["runs:succeeded"] += 1
            elif run.run_id in retried:
                counts["retries"] += 1
            else:
                counts["runs:failed"] += 1
        if run.attempt_number == 1:
            scheduled = run.scheduled_for
            if scheduled.tzinfo is None:  # SQLite hands back naive UTC
                scheduled = scheduled.replace(tzinfo=UTC)
            lags.append(max(0.0, (outcome.started_at - scheduled).total_seconds()))
    counts.update(histogram_counts(LATENCY, latencies))
    counts.update(histogram_counts(FIRE_LAG, lags))
    return counts


class Tally:
    """Counts and histogram observations not yet flushed to Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, field: str, amount: float = 1) -> None:
        with self._lock:
            self._counts[field] += amount

    def add_all(self, counts: Counter[str]) -> None:
        with self._lock:
            self._counts.update(counts)

    def observe(self, name: str, values: Iterable[float]) -> None:
        """Histogram observations (seconds), taken in one go."""
        self.add_all(histogram_counts(name, values))

    def take(self) -> Counter[str]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts

    give_back = add_all


class MetricsReporter:
    """The flushing thread of one process: its tally and its heartbeat.

    `beat()` marks the process's main loop as alive; with `auto_beat` the
    thread beats by itself (a worker's loop belongs to RQ).
    """

    def __init__(self, redis: Redis, namespace: str, role: str, *, auto_beat: bool = False):
        self.tally = Tally()
        self._redis = redis
        self._namespace = namespace
        self._role = role
        self._auto_beat = auto_beat
        self._name = process_name()
        self._last_beat = time.time()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics", daemon=True)

    def start(self) -> MetricsReporter:
        self._thread.start()
        return self

    def beat(self) -> None:
        self._last_beat = time.time()

    def stop(self) -> None:
        """Flush what is left, stop the thread and leave the heartbeat list: a
        process that stopped cleanly is gone, not dead."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.flush()
        with contextlib.suppress(RedisError):  # else it ages out of the list
            self._redis.zrem(heartbeat_key(self._namespace, self._role), self._name)

    def _run(self) -> None:
        while not self._stopping.wait(FLUSH_INTERVAL_SECONDS):
            self.flush()

    def flush(self) -> None:
        if self._auto_beat:
            self.beat()
        counts = self.tally.take()
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for field, amount in counts.items():
                    if field.endswith(":sum"):
                        pipe.hincrbyfloat(totals_key(self._namespace), field, amount)
                    else:
                        pipe.hincrby(totals_key(self._namespace), field, int(amount))
                pipe.zadd(heartbeat_key(self._namespace, self._role), {self._name: self._last_beat})
                pipe.execute()
        except RedisError as error:
            # Kept for the next flush: a Redis outage delays figures, never loses them.
            self.tally.give_back(counts)
            log.warning("could not flush metrics to Redis: %s", type(error).__name__)


def read_heartbeats(redis: Redis, namespace: str, role: str, now: float) -> dict[str, float]:
    """Process name -> seconds since its last heartbeat; long-silent ones are forgotten."""
    key = heartbeat_key(namespace, role)
    redis.zremrangebyscore(key, "-inf", now - HEARTBEAT_FORGET_SECONDS)
    return {
        member.decode(): max(0.0, now - score)
        for member, score in redis.zrange(key, 0, -1, withscores=True)
    }
