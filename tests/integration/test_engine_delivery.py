"""Schedules fire through the real ticker and worker processes and leave a full record."""

from __future__ import annotations

import itertools
import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from hookboard.engine.claim import claim_runs
from hookboard.engine.dispatch import dispatch_due
from hookboard.engine.queueing import wake_tickers
from hookboard.engine.record import Delivered, record_outcomes
from hookboard.models import Schedule, SigningSecret
from hookboard.net.outcome import AttemptOutcome
from tests.support.engine import (
    EngineProcesses,
    attempts_of,
    get_schedule,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver


@pytest.fixture
def processes(database_url, redis_url, engine):
    with EngineProcesses(database_url, redis_url) as running:
        yield running


def finished(engine, schedule_id, count, statuses=("succeeded",)):
    def check():
        done = [run for run in runs_of(engine, schedule_id) if run.status in statuses]
        return done if len(done) >= count else None

    return wait_until(check, timeout=30)


def test_an_interval_schedule_is_delivered_signed_and_logged(engine, processes):
    workspace_id = make_workspace(engine)
    with Receiver() as receiver:
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            url=receiver.url + "/hook?x=1",
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer s3cret"},
            body=json.dumps({"hello": "world"}),
        )
        processes.ticker()
        processes.worker()
        runs = finished(engine, schedule_id, 3)
        requests = receiver.wait_for(3)

    with Session(engine) as session:
        secret = session.exec(select(SigningSecret)).one().secret
    for request in requests[:3]:
        assert request.method == "POST"
        assert request.path == "/hook?x=1"
        assert request.body == b'{"hello": "world"}'
        assert request.headers["authorization"] == "Bearer s3cret"
        assert request.headers["user-agent"].startswith("Hookboard/")
        Webhook(secret).verify(request.body, request.headers)  # raises if the signature is wrong

    run = runs[0]
    assert run.attempt_count == 1
    assert run.status_code == 200
    assert run.latency_ms is not None and run.latency_ms >= 0
    assert run.error_class == "success"
    [attempt] = attempts_of(engine, run.id)
    assert attempt.status_code == 200
    assert attempt.error_class == "success"
    assert attempt.response_body == "ok"
    assert attempt.request_headers["Authorization"] == "***"
    assert attempt.request_headers["webhook-id"] == run.delivery_key
    assert re.fullmatch(r"msg_[0-9A-HJKMNP-TV-Z]{26}", run.delivery_key)
    assert len({r.delivery_key for r in runs}) == len(runs)
    assert attempt.started_at >= run.scheduled_for
    scheduled = [r.scheduled_for for r in runs_of(engine, schedule_id)]
    assert len(set(scheduled)) == len(scheduled)
    assert get_schedule(engine, schedule_id).next_run_at > scheduled[-1]


FAST_FIXED_RETRY = {"backoff": "fixed", "base_delay_seconds": 1, "jitter": False}


def fire_once(engine, processes, url, statuses=("succeeded",), **fields):
    """A one-off schedule due now, run by fresh ticker and worker processes
    until its run reaches one of `statuses`; returns (schedule id, run)."""
    schedule_id = make_schedule(
        engine, make_workspace(engine), kind="once", run_at=_soon(), url=url, **fields
    )
    processes.ticker()
    processes.worker()
    [run] = finished(engine, schedule_id, 1, statuses=statuses)
    return schedule_id, run


def flaky(failures: int, status: int = 503, headers: dict | None = None):
    """A responder that fails `failures` times, then answers 200."""
    seen = {"n": 0}

    def respond(_request):
        seen["n"] += 1
        if seen["n"] <= failures:
            return status, headers or {}, b"try later"
        return 200, {}, b"fine"

    return respond


def test_a_retryable_failure_is_retried_under_the_same_run(engine, processes):
    with Receiver(responder=flaky(2)) as receiver:
        schedule_id, run = fire_once(
            engine, processes, receiver.url, max_attempts=3, **FAST_FIXED_RETRY
        )
        requests = receiver.wait_for(3)
    assert run.attempt_count == 3
    assert [a.error_class for a in attempts_of(engine, run.id)] == [
        "http_5xx",
        "http_5xx",
        "success",
    ]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert get_schedule(engine, schedule_id).status == "completed"


def test_retry_after_is_honoured(engine, processes):
    with Receiver(responder=flaky(1, 429, {"Retry-After": "2"})) as receiver:
        retry_policy = {**FAST_FIXED_RETRY, "base_delay_seconds": 60}
        fire_once(engine, processes, receiver.url, max_attempts=2, **retry_policy)
        first, second = receiver.wait_for(2)
    gap = (second.received_at - first.received_at).total_seconds()
    assert 1.5 <= gap < 10  # Retry-After: 2, not the 60 s backoff


def test_a_run_whose_attempts_run_out_fails_and_can_be_replayed(engine, processes, redis_url):
    from hookboard.engine.queueing import delivery_queue
    from hookboard.services.run_actions import replay
    from hookboard.services.workspaces.permissions import Access, Role

    with Receiver(status=500) as receiver:
        schedule_id, run = fire_once(
            engine, processes, receiver.url, ("failed",), max_attempts=2, **FAST_FIXED_RETRY
        )
        assert run.attempt_count == 2 and run.status_code == 500 and run.error_class == "http_5xx"

        receiver.set_response(status=200)
        queue = delivery_queue(Redis.from_url(redis_url), processes.queue_name)
        owner = Access(user_id=None, workspace_id=run.workspace_id, role=Role.owner)
        replay(engine, queue, access=owner, run_id=run.id, lease_grace=timedelta(seconds=30))
        [replayed] = finished(engine, schedule_id, 1)
    assert replayed.id == run.id
    assert [a.number for a in attempts_of(engine, run.id)] == [1, 2, 3]
    assert replayed.attempt_count == 3


def test_a_client_error_is_not_retried(engine, processes):
    with Receiver(status=404) as receiver:
        _, run = fire_once(engine, processes, receiver.url, ("failed",), max_attempts=5)
    assert run.attempt_count == 1
    assert run.error_class == "http_4xx"


def test_loopback_is_refused_without_the_operator_allowing_it(engine, database_url, redis_url):
    with (
        Receiver() as receiver,
        EngineProcesses(database_url, redis_url, ALLOW_PRIVATE_TARGETS="false") as processes,
    ):
        _, run = fire_once(engine, processes, receiver.url, ("failed",), max_attempts=3)
        assert receiver.requests == []
        assert receiver.connections == 0
    assert run.error_class == "ssrf_blocked"
    assert run.attempt_count == 1  # a blocked address is not retried


def test_overlapping_firings_are_skipped_while_a_run_is_in_flight(engine, processes):
    workspace_id = make_workspace(engine)
    with Receiver(delay=2.5) as receiver:
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            url=receiver.url,
            overlap="skip",
            timeout_seconds=10,
            # In the future: a firing the ticker catches up on after its start is
            # sent beside the next (catch-up firings are not overlaps, by design).
            starts_at=datetime.now(UTC) + timedelta(seconds=4),
        )
        processes.ticker()
        processes.worker()
        finished(engine, schedule_id, 1, statuses=("skipped",))
        finished(engine, schedule_id, 1)
        receiver.wait_for(1)
    runs = runs_of(engine, schedule_id)
    delivered = [r for r in runs if r.status != "skipped"]
    assert any(r.status == "skipped" for r in runs)
    # Never two deliveries at once: each delivered run starts after the previous one ended.
    for earlier, later in itertools.pairwise(delivered):
        if earlier.finished_at and later.started_at:
            assert later.started_at >= earlier.finished_at


def test_a_schedule_using_a_target_sends_the_target_as_it_is_at_firing(engine, processes):
    from hookboard.models import Target

    workspace_id = make_workspace(engine)
    with Receiver() as receiver:
        with Session(engine) as session:
            target = Target(
                workspace_id=workspace_id,
                name="t",
                url=receiver.url + "/old",
                method="PUT",
                headers={"X-From": "target", "X-Keep": "1"},
                body="target body",
            )
            session.add(target)
            session.commit()
            target_id = target.id
        make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            target_id=target_id,
            headers={"X-From": "schedule"},
        )
        with Session(engine) as session:
            target = session.get(Target, target_id)
            target.url = receiver.url + "/new"
            session.add(target)
            session.commit()
        processes.ticker()
        processes.worker()
        [request, *_] = receiver.wait_for(1)
    assert request.path == "/new"
    assert request.method == "PUT"
    assert request.body == b"target body"
    assert request.headers["x-from"] == "schedule"
    assert request.headers["x-keep"] == "1"


def _soon():
    return datetime.now(UTC) + timedelta(milliseconds=300)


def test_a_change_wakes_a_sleeping_ticker(engine, database_url, redis_url):
    workspace_id = make_workspace(engine)
    # Idle for up to 60 s unless woken: a firing within seconds proves the wake-up.
    with (
        Receiver() as receiver,
        EngineProcesses(database_url, redis_url, TICKER_MAX_IDLE_SECONDS="60") as processes,
    ):
        processes.ticker()
        processes.worker()
        time.sleep(3)  # nothing is due, so the ticker is asleep by now
        schedule_id = make_schedule(
            engine, workspace_id, kind="once", run_at=datetime.now(UTC), url=receiver.url
        )
        woken_at = datetime.now(UTC)
        wake_tickers(Redis.from_url(redis_url), processes.queue_name)
        [run] = finished(engine, schedule_id, 1)
    assert (run.created_at - woken_at).total_seconds() < 10


def test_deleting_a_schedule_mid_delivery_spoils_no_other_run(engine):
    """Two runs finish in one batch; one's schedule was deleted meanwhile."""
    workspace_id = make_workspace(engine)
    kept_id = make_schedule(engine, workspace_id, kind="once", run_at=_soon(), url="http://a.test/")
    doomed_id = make_schedule(
        engine, workspace_id, kind="once", run_at=_soon(), url="http://b.test/"
    )
    now = datetime.now(UTC) + timedelta(seconds=1)
    grace = timedelta(seconds=30)
    run_ids = dispatch_due(engine, now, limit=10, misfire_grace=grace, lease_grace=grace).run_ids
    claimed = claim_runs(engine, run_ids, now, lease_grace=grace)
    with Session(engine) as session:
        session.delete(session.get(Schedule, doomed_id))
        session.commit()
    outcome = AttemptOutcome(now, 12.0, 200, {}, "ok", "success", None, None)
    batch = [Delivered(run, outcome, dict(run.request.headers)) for run in claimed]

    record_outcomes(engine, batch, now, lease_grace=grace)

    [kept] = runs_of(engine, kept_id)
    assert kept.status == "succeeded"
    assert len(attempts_of(engine, kept.id)) == 1
    assert runs_of(engine, doomed_id) == []


def test_batched_writes_keep_every_character_and_skip_a_stale_duplicate(engine):
    """The batch travels as one JSON document on PostgreSQL: quotes, backslashes,
    newlines and non-ASCII text must come back as sent, and a second record of
    the same claim (a stale duplicate) must not move the run again."""
    workspace_id = make_workspace(engine)
    tricky = 'a "quoted" \\ back\\slash\nnew line, tab\t, émoji 🎉, {"json": [1, 2]}'
    schedule_id = make_schedule(
        engine,
        workspace_id,
        kind="once",
        run_at=_soon(),
        url='http://a.test/p?q="x"',
        headers={"X-Tricky": tricky},
        body=tricky,
    )
    now = datetime.now(UTC) + timedelta(seconds=1)
    grace = timedelta(seconds=30)
    run_ids = dispatch_due(engine, now, limit=10, misfire_grace=grace, lease_grace=grace).run_ids
    [claimed] = claim_runs(engine, run_ids, now, lease_grace=grace)
    assert claimed.request.body == tricky and claimed.request.headers["X-Tricky"] == tricky
    outcome = AttemptOutcome(now, 12.5, 200, {"x-echo": tricky}, tricky, "success", None, None)
    delivered = Delivered(claimed, outcome, dict(claimed.request.headers))

    record_outcomes(engine, [delivered], now, lease_grace=grace)
    record_outcomes(engine, [delivered], now + timedelta(seconds=5), lease_grace=grace)

    [run] = runs_of(engine, schedule_id)
    assert (run.status, run.attempt_count, run.latency_ms) == ("succeeded", 1, 12.5)
    assert run.finished_at == now  # the duplicate did not move it again
    [attempt] = attempts_of(engine, run.id)
    assert attempt.request_body == tricky and attempt.response_body == tricky
    assert attempt.request_headers["X-Tricky"] == tricky
    assert attempt.response_headers == {"x-echo": tricky}
    assert attempt.request_url == 'http://a.test/p?q="x"'
