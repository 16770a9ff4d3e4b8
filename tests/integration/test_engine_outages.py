"""The engine rides out an outage of its PostgreSQL database: the worker keeps
the outcomes it could not record until the database answers again, and the
ticker never exits.

The outage is real (tests.support.databases.postgres_outage: the database
refuses connections and its open ones are cut) and of this session's database
only. SQLite, a file on the engine's own host, has no such outage.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from hookboard.core.metrics import MetricsReporter
from hookboard.engine.ticker import Ticker
from hookboard.models import RunStatus
from hookboard.settings import Settings
from tests.support.databases import postgres_outage
from tests.support.engine import (
    EngineProcesses,
    attempts_of,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver

pytestmark = pytest.mark.postgres

SCHEDULES = 20
ANSWER_SECONDS = 3.0  # each receiver answer: the outage starts while they are in flight
OUTAGE_SECONDS = 12.0  # longer than a run's lease (timeout 5 + grace 1) and 3 old rounds


@pytest.fixture
def database_url(postgres_url) -> str:
    return postgres_url


def test_outcomes_finished_during_an_outage_are_recorded_once_and_never_sent_again(
    engine, database_url, engine_redis_url
):
    workspace_id = make_workspace(engine)
    fire_at = datetime.now(UTC) + timedelta(seconds=3)
    with (
        Receiver(delay=ANSWER_SECONDS) as receiver,
        EngineProcesses(database_url, engine_redis_url, LEASE_GRACE_SECONDS="1") as processes,
    ):
        processes.ticker()
        processes.worker()
        schedule_ids = [
            make_schedule(
                engine,
                workspace_id,
                name=f"once {n}",
                kind="once",
                run_at=fire_at,
                url=receiver.url + f"/s{n}",
                timeout_seconds=5,
            )
            for n in range(SCHEDULES)
        ]
        receiver.wait_for(SCHEDULES, timeout=20)  # all in flight, none answered yet
        with postgres_outage(database_url):
            time.sleep(OUTAGE_SECONDS)  # the answers come back, the database is gone

        def all_succeeded():
            runs = [run for sid in schedule_ids for run in runs_of(engine, sid)]
            done = [run for run in runs if run.status == RunStatus.succeeded]
            return runs if len(done) == SCHEDULES else None

        runs = wait_until(all_succeeded, timeout=30, interval=0.5)
        # A second delivery would have been claimed by now and be at the receiver
        # within one answer time; wait past that and the ticker's recovery pass.
        time.sleep(ANSWER_SECONDS + 6)
        deliveries = Counter(request.path for request in receiver.requests)

    assert deliveries == {f"/s{n}": 1 for n in range(SCHEDULES)}  # no second delivery
    for run in runs:
        assert [a.number for a in attempts_of(engine, run.id)] == [1]  # recorded, once
        assert run.attempt_count == 1


class _CutAfterATick(Ticker):
    """Starts an outage right after a tick that worked, when asked to, so that the
    idle path's own query (next_due_at) is the first to meet it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cut_requested = threading.Event()
        self.cut_started = threading.Event()
        self.outage = contextlib.ExitStack()

    def tick(self) -> bool:
        busy = super().tick()
        if self.cut_requested.is_set() and not self.cut_started.is_set():
            self.outage.enter_context(postgres_outage(self.settings.database_url))
            self.cut_started.set()
        return busy


def test_the_ticker_survives_an_outage_that_meets_it_while_idle(
    engine, database_url, redis, redis_url
):
    workspace_id = make_workspace(engine)
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        queue_name="hb-test-outage",
        ticker_max_idle_seconds=0.5,
    )
    metrics = MetricsReporter(redis, settings.queue_name, "ticker")
    ticker = _CutAfterATick(settings, redis, metrics, engine=engine)
    thread = threading.Thread(target=ticker.run_forever, daemon=True)
    thread.start()
    try:
        ticker.cut_requested.set()
        assert ticker.cut_started.wait(10)
        time.sleep(3)  # idle queries and ticks all fail meanwhile
        assert thread.is_alive()
        ticker.outage.close()
        schedule_id = make_schedule(
            engine, workspace_id, kind="once", run_at=datetime.now(UTC), url="http://127.0.0.1:9/"
        )
        runs = wait_until(lambda: runs_of(engine, schedule_id), timeout=10)
        assert thread.is_alive()
        assert len(runs) == 1  # it went back to work
    finally:
        ticker.outage.close()
        ticker.stopping.set()
        ticker.wake.set()
        thread.join(10)


def test_firings_recorded_while_redis_is_down_are_sent_not_skipped_as_overlaps(
    engine, database_url, private_redis
):
    """overlap=skip skips a firing only while the previous run is being delivered:
    a run recorded but never queued (Redis down) does not count."""
    workspace_id = make_workspace(engine)
    with (
        Receiver() as receiver,
        EngineProcesses(database_url, private_redis.url, LEASE_GRACE_SECONDS="1") as processes,
    ):
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            starts_at=datetime.now(UTC) + timedelta(seconds=1),
            url=receiver.url + "/hook",
            overlap="skip",
        )
        processes.ticker()
        processes.worker()
        wait_until(lambda: len(receiver.requests) >= 2, timeout=15)
        private_redis.kill()
        before = len(runs_of(engine, schedule_id))
        wait_until(lambda: len(runs_of(engine, schedule_id)) >= before + 4, timeout=15)
        private_redis.start()  # back, and empty: the runs' jobs are lost
        during = [run.id for run in runs_of(engine, schedule_id)][before - 1 :]
        if processes.processes[1].poll() is not None:  # RQ gave up on Redis
            processes.worker()

        def settled():
            runs = {run.id: run for run in runs_of(engine, schedule_id)}
            done = all(runs[run_id].status in {"succeeded", "skipped"} for run_id in during)
            return runs if done else None

        runs = wait_until(settled, timeout=30, interval=0.3)

    statuses = Counter(runs[run_id].status for run_id in during)
    assert statuses == {RunStatus.succeeded: len(during)}
