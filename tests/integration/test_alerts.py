"""Auto-pause and alerts through the real ticker and worker processes: a webhook
receiver and an SMTP server on 127.0.0.1 get the alerts, with retries."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from hookboard.models import Alert, NotificationChannel, SigningSecret
from tests.support.engine import (
    EngineProcesses,
    get_schedule,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def processes(database_url, redis_url, engine, smtp):
    with EngineProcesses(
        database_url,
        redis_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_TLS="none",
        ALERT_RETRY_BASE_SECONDS="0.5",
    ) as running:
        yield running


def add_channel(engine, workspace_id: int, **fields) -> int:
    fields.setdefault("name", fields["kind"])
    with Session(engine) as session:
        channel = NotificationChannel(workspace_id=workspace_id, **fields)
        session.add(channel)
        session.commit()
        return channel.id


def alerts(engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.exec(select(Alert).order_by(Alert.id)))


def every_second(engine, workspace_id: int, url: str, **fields) -> int:
    return make_schedule(
        engine,
        workspace_id,
        name="billing sync",
        kind="interval",
        every=1,
        unit="seconds",
        url=url,
        max_attempts=1,
        # In the future: the ticker starts after the schedule is made, and the
        # firings it would catch up on are sent side by side (not overlaps).
        **{"starts_at": datetime.now(UTC) + timedelta(seconds=3), **fields},
    )


def test_a_failing_schedule_pauses_itself_and_alerts_by_webhook_and_email(engine, processes, smtp):
    workspace_id = make_workspace(engine)
    with Receiver(status=500) as endpoint, Receiver() as alert_hook:
        add_channel(engine, workspace_id, kind="webhook", url=alert_hook.url + "/slack")
        add_channel(engine, workspace_id, kind="email", email="ops@example.com")
        schedule_id = every_second(engine, workspace_id, endpoint.url, auto_pause_after=3)
        processes.ticker()
        processes.worker()
        schedule = wait_until(
            lambda: (s := get_schedule(engine, schedule_id)).status == "paused" and s, timeout=30
        )
        hooks = alert_hook.wait_for(2)
        emails = smtp.wait_for(2)

    assert schedule.paused_reason == (
        "auto-paused after 3 failed runs in a row (last: http_5xx (HTTP 500))"
    )
    assert schedule.next_run_at is None and schedule.consecutive_failures == 3
    assert len([r for r in runs_of(engine, schedule_id) if r.status == "failed"]) == 3

    payloads = [json.loads(request.body) for request in hooks]
    events = [payload["hookboard"]["event"] for payload in payloads]
    # The streak's first failure and the pause; failures 2 and 3 raise none.
    assert sorted(events) == ["auto_paused", "run_failed"]
    paused = next(p for p in payloads if p["hookboard"]["event"] == "auto_paused")
    assert paused["text"].startswith("Schedule “billing sync” (id ")
    assert "paused itself: auto-paused after 3 failed runs" in paused["text"]
    assert paused["blocks"][0]["type"] == "header"
    with Session(engine) as session:
        secret = session.exec(select(SigningSecret)).one().secret
    for request in hooks:
        assert request.path == "/slack"
        Webhook(secret).verify(request.body, request.headers)  # signed like deliveries

    subjects = sorted(message["Subject"] for message in emails)
    assert subjects == [
        "[Hookboard] Run failed: billing sync",
        "[Hookboard] Schedule paused: billing sync",
    ]
    assert smtp.recipients[0] == ["ops@example.com"]
    [failed] = [message for message in emails if "Run failed" in message["Subject"]]
    body = failed.get_payload(decode=True).decode()
    assert "“billing sync”" in body and "failed after 1 attempt: http_5xx (HTTP 500)" in body
    queued = alerts(engine)  # written with the outcomes: the whole count, not a sample
    assert len(queued) == 4 and {alert.status for alert in queued} == {"sent"}


def test_the_first_success_after_failures_sends_recovered(engine, processes):
    workspace_id = make_workspace(engine)
    answers = itertools.chain([500, 500], itertools.repeat(200))

    def flaky(_request):
        return next(answers), {}, b""

    with Receiver(responder=flaky) as endpoint, Receiver() as alert_hook:
        add_channel(engine, workspace_id, kind="webhook", url=alert_hook.url)
        schedule_id = every_second(engine, workspace_id, endpoint.url)
        processes.ticker()
        processes.worker()
        hooks = alert_hook.wait_for(2, timeout=30)

    events = [json.loads(request.body)["hookboard"]["event"] for request in hooks]
    assert events[:2] == ["run_failed", "recovered"]
    schedule = get_schedule(engine, schedule_id)
    assert schedule.status == "active"
    assert (schedule.consecutive_failures, schedule.failing_since) == (0, None)


def test_an_alert_is_retried_until_its_receiver_takes_it(engine, processes, smtp):
    workspace_id = make_workspace(engine)
    answers = itertools.chain([503], itertools.repeat(200))

    def down_once(_request):
        return next(answers), {}, b""

    smtp._fail_first = 1  # the SMTP server refuses the first message too (451)
    with Receiver(status=404) as endpoint, Receiver(responder=down_once) as alert_hook:
        add_channel(engine, workspace_id, kind="webhook", url=alert_hook.url)
        add_channel(engine, workspace_id, kind="email", email="ops@example.com")
        every_second(engine, workspace_id, endpoint.url, auto_pause_after=1)
        processes.ticker()
        processes.worker()
        hooks = alert_hook.wait_for(3, timeout=30)  # 2 alerts, the first one twice
        smtp.wait_for(2)
        sent = wait_until(
            lambda: (found := alerts(engine)) and all(a.status == "sent" for a in found) and found
        )

    ids = [request.headers["webhook-id"] for request in hooks]
    assert ids.count(ids[0]) == 2  # the refused alert came again, under the same id
    assert smtp.refused == 1
    retried = [alert for alert in sent if alert.attempts == 2]
    assert len(retried) == 2  # one webhook alert, one email alert
    assert {a.last_error for a in sent} == {None}


def test_an_alert_queued_while_no_worker_runs_is_sent_when_one_starts(engine, processes):
    workspace_id = make_workspace(engine)
    with Receiver() as alert_hook:
        channel_id = add_channel(engine, workspace_id, kind="webhook", url=alert_hook.url)
        with Session(engine) as session:
            session.add(
                Alert(
                    workspace_id=workspace_id,
                    channel_id=channel_id,
                    event="run_failed",
                    subject="Run failed: x",
                    text="queued before any worker",
                    next_attempt_at=datetime.now(UTC),
                )
            )
            session.commit()
        processes.worker()
        [request] = alert_hook.wait_for(1)
    assert json.loads(request.body)["text"] == "queued before any worker"
    wait_until(lambda: alerts(engine)[0].status == "sent")
