"""RQ job functions. They take ids and re-read the truth from the database."""

from __future__ import annotations

import threading
from datetime import timedelta

from hookboard.core.db import get_engine
from hookboard.core.metrics import MetricsReporter, delivery_counts
from hookboard.core.redis_client import get_redis
from hookboard.engine.queueing import delivery_queue, enqueue_retry
from hookboard.engine.record import Delivered, RetryLater, Written
from hookboard.engine.runtime import DeliveryRuntime, RuntimeConfig
from hookboard.net.guard import NetPolicy
from hookboard.settings import get_settings

_runtime: DeliveryRuntime | None = None
_metrics: MetricsReporter | None = None
_runtime_lock = threading.Lock()


def deliver_runs(run_ids: list[int]) -> int:
    """Claim these runs and start delivering them; returns how many were claimed."""
    return get_runtime().submit(run_ids)


def get_runtime() -> DeliveryRuntime:
    """The worker process's delivery runtime, built on first use."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = _build_runtime()
        return _runtime


def shutdown_runtime(timeout: float = 60) -> None:
    """Let in-flight deliveries finish and be recorded (a warm shutdown)."""
    global _runtime, _metrics
    with _runtime_lock:
        if _runtime is not None:
            _runtime.close(timeout)
            _runtime = None
        if _metrics is not None:
            _metrics.stop()  # flushes the last figures
            _metrics = None


def _build_runtime() -> DeliveryRuntime:
    global _metrics
    settings = get_settings()
    queue = delivery_queue(get_redis(), settings.queue_name)
    _metrics = MetricsReporter(get_redis(), settings.queue_name, "worker", auto_beat=True).start()
    tally = _metrics.tally

    def schedule_retry(retry: RetryLater) -> None:
        enqueue_retry(queue, retry.run_id, retry.delay_seconds)

    def observe(batch: list[Delivered], written: Written) -> None:
        tally.add_all(delivery_counts(batch, written))

    return DeliveryRuntime(
        get_engine(),
        NetPolicy.from_settings(settings),
        RuntimeConfig(
            max_in_flight=settings.worker_max_in_flight,
            http_clients=settings.worker_http_clients,
            excerpt_bytes=settings.response_excerpt_bytes,
            lease_grace=timedelta(seconds=settings.lease_grace_seconds),
        ),
        schedule_retry,
        observe,
    )
