"""Prometheus metrics, computed at scrape time.

Counters and histograms are the totals the engine's processes flushed to
Redis (hookboard.core.metrics), so they cover every worker and ticker on every
host. Gauges (queue depth, due backlog, heartbeat ages) are read from Redis
and the database when Prometheus asks. A source that does not answer is
reported by `hookboard_up{source=...} 0` and its metrics are left out; the
scrape itself never fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from hookboard import __version__
from hookboard.core.metrics import (
    BUCKETS,
    FIRE_LAG,
    LATENCY,
    ROLES,
    bucket_field,
    read_heartbeats,
    totals_key,
)
from hookboard.engine.queueing import delivery_queue
from hookboard.models import Run, RunStatus, Schedule, ScheduleStatus

log = logging.getLogger("hookboard.metrics")

# A process whose last heartbeat is older than this is not counted as alive.
ALIVE_WITHIN_SECONDS = 30.0
RUN_OUTCOMES = ("succeeded", "failed", "skipped")
UNFINISHED = (RunStatus.pending, RunStatus.running, RunStatus.retrying)
HISTOGRAMS = {
    LATENCY: ("hookboard_delivery_latency_seconds", "Time from request start to response."),
    FIRE_LAG: (
        "hookboard_fire_lag_seconds",
        "First attempt's start minus the instant the run was scheduled for.",
    ),
}


class HookboardCollector(Collector):
    def __init__(self, redis: Redis, engine: Engine, namespace: str):
        self.redis = redis
        self.engine = engine
        self.namespace = namespace

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("hookboard_build_info", "Hookboard's version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        up = GaugeMetricFamily("hookboard_up", "1 when the source answered.", labels=["source"])
        redis_metrics = self._guarded(self._from_redis, RedisError)
        database_metrics = self._guarded(self._from_database, SQLAlchemyError)
        up.add_metric(["redis"], 0 if redis_metrics is None else 1)
        up.add_metric(["database"], 0 if database_metrics is None else 1)
        yield up
        yield from redis_metrics or []
        yield from database_metrics or []

    def _guarded(self, produce, errors) -> list[Metric] | None:
        try:
            return list(produce())
        except errors as error:
            log.warning("metrics: %s unavailable (%s)", produce.__name__, type(error).__name__)
            return None

    # --- Redis: the engine's totals, the queue, the heartbeats ---------------------

    def _from_redis(self) -> Iterator[Metric]:
        raw = self.redis.hgetall(totals_key(self.namespace))
        totals = {key.decode(): float(value) for key, value in raw.items()}
        yield from counters(totals)
        for name in HISTOGRAMS:
            yield histogram(name, totals)
        yield self._queue_depth()
        yield from heartbeat_metrics(all_heartbeats(self.redis, self.namespace))

    def _queue_depth(self) -> Metric:
        queue = delivery_queue(self.redis, self.namespace)
        depth = GaugeMetricFamily(
            "hookboard_queue_jobs",
            "Delivery jobs in RQ: queued (waiting for a worker), scheduled (retries "
            "waiting for their time), started (being handled).",
            labels=["state"],
        )
        depth.add_metric(["queued"], queue.count)
        depth.add_metric(["scheduled"], ScheduledJobRegistry(queue=queue).count)
        depth.add_metric(["started"], StartedJobRegistry(queue=queue).count)
        return depth

    # --- the database: what is due and what is unfinished --------------------------

    def _from_database(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        with self.engine.connect() as connection:
            due_count, oldest = connection.execute(
                select(func.count(), func.min(Schedule.next_run_at)).where(
                    Schedule.status == ScheduleStatus.active, Schedule.next_run_at <= now
                )
            ).one()
            unfinished = dict(
                connection.execute(
                    select(Run.status, func.count())
                    .where(Run.status.in_(UNFINISHED))
                    .group_by(Run.status)
                ).all()
            )
        due = GaugeMetricFamily(
            "hookboard_due_schedules",
            "Active schedules whose next firing has come (not yet fired).",
        )
        due.add_metric([], due_count)
        yield due
        backlog = GaugeMetricFamily(
            "hookboard_due_backlog_seconds", "How late the oldest due, unfired schedule is."
        )
        backlog.add_metric([], _seconds_since(oldest, now))
        yield backlog
        runs = GaugeMetricFamily(
            "hookboard_runs_unfinished", "Runs recorded but not finished.", labels=["status"]
        )
        for status in UNFINISHED:
            runs.add_metric([status.value], unfinished.get(status.value, 0))
        yield runs


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())


def all_heartbeats(redis: Redis, namespace: str) -> dict[str, dict[str, float]]:
    """Role -> process -> seconds since its last heartbeat."""
    now = time.time()
    return {role: read_heartbeats(redis, namespace, role, now) for role in ROLES}


def counters(totals: dict[str, float]) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "hookboard_runs", "Runs finished, by outcome (skipped: overlap policy).", labels=["outcome"]
    )
    for outcome in RUN_OUTCOMES:
        runs.add_metric([outcome], totals.get(f"runs:{outcome}", 0))
    yield runs
    attempts = CounterMetricFamily(
        "hookboard_attempts", "HTTP attempts, by error class.", labels=["error_class"]
    )
    for field, value in sorted(totals.items()):
        if field.startswith("attempts:"):
            attempts.add_metric([field.removeprefix("attempts:")], value)
    yield attempts
    for name, documentation in (
        ("runs:dispatched", "Runs recorded by the tickers and queued for delivery."),
        ("runs:recovered", "Runs queued again because their lease ran out."),
        ("retries", "Failed attempts that were given another try."),
    ):
        metric_name = "hookboard_" + name.replace(":", "_")
        family = CounterMetricFamily(metric_name, documentation)
        family.add_metric([], totals.get(name, 0))
        yield family


def histogram(name: str, totals: dict[str, float]) -> Metric:
    metric_name, documentation = HISTOGRAMS[name]
    bounds = BUCKETS[name]
    buckets, running = [], 0.0
    for index, bound in enumerate(bounds):
        running += totals.get(bucket_field(name, index), 0)
        buckets.append((f"{bound:g}", running))
    running += totals.get(bucket_field(name, len(bounds)), 0)
    buckets.append(("+Inf", running))
    return HistogramMetricFamily(
        metric_name, documentation, buckets=buckets, sum_value=totals.get(f"{name}:sum", 0)
    )


def heartbeat_metrics(heartbeats: dict[str, dict[str, float]]) -> Iterator[Metric]:
    ages = GaugeMetricFamily(
        "hookboard_heartbeat_age_seconds",
        "Seconds since each ticker or worker process last reported in.",
        labels=["role", "process"],
    )
    alive = GaugeMetricFamily(
        "hookboard_processes_alive",
        f"Processes that reported in within {ALIVE_WITHIN_SECONDS:g} s.",
        labels=["role"],
    )
    for role, processes in heartbeats.items():
        for process, age in sorted(processes.items()):
            ages.add_metric([role, process], age)
        alive.add_metric(
            [role], sum(1 for age in processes.values() if age <= ALIVE_WITHIN_SECONDS)
        )
    yield ages
    yield alive


def metrics_registry(redis: Redis, engine: Engine, namespace: str) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HookboardCollector(redis, engine, namespace))
    return registry
