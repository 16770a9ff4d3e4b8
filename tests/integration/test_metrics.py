"""/metrics shows what the real ticker and worker processes did, summed in Redis,
plus gauges read at scrape time; it survives a dead Redis and can require a token."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from hookboard.api.metrics_collector import metrics_registry
from hookboard.core.db import make_engine
from hookboard.core.metrics import MetricsReporter, delivery_counts
from hookboard.engine.record import RetryLater, Written
from tests.support.api_server import serve_api
from tests.support.engine import EngineProcesses, make_schedule, make_workspace, runs_of, wait_until
from tests.support.processes import free_port
from tests.support.receiver import Receiver


def scrape(base: str, token: str | None = None) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value."""
    request = urllib.request.Request(f"{base}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def at_least(samples: dict, least: float, name: str, **labels: str) -> bool:
    return samples.get((name, tuple(sorted(labels.items()))), 0) >= least


def test_deliveries_of_real_processes_show_up(engine, database_url, redis_url):
    workspace_id = make_workspace(engine)
    with (
        Receiver() as ok_receiver,
        Receiver(status=404) as missing,
        EngineProcesses(database_url, redis_url) as processes,
        serve_api(
            DATABASE_URL=database_url, REDIS_URL=redis_url, QUEUE_NAME=processes.queue_name
        ) as base,
    ):
        good = make_schedule(
            engine, workspace_id, kind="interval", every=1, unit="seconds", url=ok_receiver.url
        )
        bad = make_schedule(
            engine, workspace_id, kind="interval", every=1, unit="seconds", url=missing.url,
            max_attempts=1,
        )  # fmt: skip
        processes.ticker()
        processes.worker()
        wait_until(lambda: len([r for r in runs_of(engine, good) if r.status == "succeeded"]) >= 3)
        wait_until(lambda: len([r for r in runs_of(engine, bad) if r.status == "failed"]) >= 2)

        def flushed():
            # Ticker and worker flush their counts every 2 s, each on its own clock.
            samples = scrape(base)
            done = (
                at_least(samples, 3, "hookboard_runs_total", outcome="succeeded")
                and at_least(samples, 2, "hookboard_runs_total", outcome="failed")
                and at_least(samples, 5, "hookboard_runs_dispatched_total")
                and at_least(samples, 5, "hookboard_fire_lag_seconds_count")
            )
            return samples if done else None

        samples = wait_until(flushed, timeout=15, interval=0.5)

    assert value(samples, "hookboard_up", source="redis") == 1
    assert value(samples, "hookboard_up", source="database") == 1
    assert value(samples, "hookboard_attempts_total", error_class="success") >= 3
    assert value(samples, "hookboard_attempts_total", error_class="http_4xx") >= 2
    assert value(samples, "hookboard_runs_dispatched_total") >= 5
    count = value(samples, "hookboard_delivery_latency_seconds_count")
    assert count >= 5
    assert value(samples, "hookboard_delivery_latency_seconds_bucket", le="+Inf") == count
    assert value(samples, "hookboard_fire_lag_seconds_count") >= 5
    assert value(samples, "hookboard_processes_alive", role="ticker") == 1
    assert value(samples, "hookboard_processes_alive", role="worker") == 1
    ages = [
        v for (name, _labels), v in samples.items() if name == "hookboard_heartbeat_age_seconds"
    ]
    assert len(ages) == 2 and all(0 <= age < 30 for age in ages)
    assert ("hookboard_queue_jobs", (("state", "queued"),)) in samples


def test_due_backlog_counts_schedules_no_ticker_has_fired(engine, database_url, redis_url):
    workspace_id = make_workspace(engine)
    for _ in range(3):
        make_schedule(
            engine, workspace_id, kind="once", run_at=datetime.now(UTC) + timedelta(seconds=1),
            url="http://127.0.0.1:9/never",
        )  # fmt: skip
    time.sleep(2.5)  # due for over a second, and no ticker runs
    with serve_api(DATABASE_URL=database_url, REDIS_URL=redis_url) as base:
        samples = scrape(base)
    assert value(samples, "hookboard_due_schedules") == 3
    assert 1 <= value(samples, "hookboard_due_backlog_seconds") < 30
    assert value(samples, "hookboard_processes_alive", role="ticker") == 0


def test_a_dead_redis_still_answers_with_what_it_can(sqlite_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with serve_api(DATABASE_URL=sqlite_url, REDIS_URL=dead) as base:
        samples = scrape(base)
    assert value(samples, "hookboard_up", source="redis") == 0
    assert value(samples, "hookboard_up", source="database") == 1
    assert ("hookboard_due_schedules", ()) in samples


def test_the_token_setting_closes_metrics(sqlite_url, redis_url):
    with serve_api(DATABASE_URL=sqlite_url, REDIS_URL=redis_url, METRICS_TOKEN="m3trics") as base:
        for token in (None, "wrong", "mätrics"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                scrape(base, token)
            assert refused.value.code == 401
        assert value(scrape(base, "m3trics"), "hookboard_up", source="redis") == 1


def _delivered(run_id: int, attempt: int, error_class: str, latency_ms: float, lag: float):
    scheduled = datetime(2030, 1, 1, tzinfo=UTC)
    outcome = SimpleNamespace(
        ok=error_class == "success",
        error_class=error_class,
        latency_ms=latency_ms,
        started_at=scheduled + timedelta(seconds=lag),
    )
    run = SimpleNamespace(run_id=run_id, attempt_number=attempt, scheduled_for=scheduled)
    return SimpleNamespace(run=run, outcome=outcome)


def test_flushed_totals_add_up_across_processes(redis, sqlite_url):
    batch = [
        _delivered(1, 1, "success", 3, 0.02),
        _delivered(2, 1, "http_5xx", 700, 0.5),  # retried
        _delivered(3, 2, "timeout", 30_000, 9),  # a retry: no fire lag
        _delivered(4, 1, "http_4xx", 70_000, 0.001),  # failed, past the last bucket
        _delivered(5, 3, "timeout", 1_000, 0),  # a stale claim: its attempt, no run outcome
        _delivered(6, 1, "success", 3, 0),  # its run was deleted: nothing recorded
    ]
    moved = {(1, 1), (2, 1), (3, 2), (4, 1)}
    written = Written([RetryLater(2, 1.0)], moved=moved, recorded=moved | {(5, 3)})
    for _process in range(2):  # two workers, one Redis
        reporter = MetricsReporter(redis, "hb-metrics-test", "worker")
        reporter.tally.add_all(delivery_counts(batch, written))
        reporter.flush()
    engine = make_engine(sqlite_url)
    registry = metrics_registry(redis, engine, "hb-metrics-test")
    get = registry.get_sample_value
    assert get("hookboard_runs_total", {"outcome": "succeeded"}) == 2
    assert get("hookboard_runs_total", {"outcome": "failed"}) == 4
    assert get("hookboard_retries_total") == 2
    assert get("hookboard_attempts_total", {"error_class": "timeout"}) == 4
    assert get("hookboard_attempts_total", {"error_class": "success"}) == 2
    assert get("hookboard_delivery_latency_seconds_count") == 10
    assert get("hookboard_delivery_latency_seconds_sum") == pytest.approx(2 * 101.703)
    assert get("hookboard_delivery_latency_seconds_bucket", {"le": "0.005"}) == 2
    assert get("hookboard_delivery_latency_seconds_bucket", {"le": "1"}) == 6
    assert get("hookboard_delivery_latency_seconds_bucket", {"le": "60"}) == 8
    assert get("hookboard_delivery_latency_seconds_bucket", {"le": "+Inf"}) == 10
    assert get("hookboard_fire_lag_seconds_count") == 6
    assert get("hookboard_fire_lag_seconds_bucket", {"le": "0.025"}) == 4
    assert get("hookboard_fire_lag_seconds_bucket", {"le": "+Inf"}) == 6
    engine.dispose()


def test_a_flush_that_fails_keeps_its_counts():
    dead = Redis(port=free_port(), socket_connect_timeout=1)
    reporter = MetricsReporter(dead, "hb-metrics-test", "worker")
    reporter.tally.add_all(Counter({"runs:succeeded": 5}))
    reporter.flush()  # Redis down: logged, and kept for the next flush
    assert reporter.tally.take() == Counter({"runs:succeeded": 5})
