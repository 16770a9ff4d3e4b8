"""record_outcomes moves failure streaks on in the outcome's transaction, on
SQLite and PostgreSQL: auto-pause, the alerts outbox, and no double counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from hookboard.engine.claim import claim_runs
from hookboard.engine.record import Delivered, record_outcomes
from hookboard.models import Alert, NotificationChannel, Schedule
from hookboard.net.outcome import AttemptOutcome
from hookboard.services import crud
from tests.support.engine import get_schedule, make_schedule, make_workspace

GRACE = timedelta(seconds=30)


def fire(engine, schedule_id: int, now: datetime):
    """A manual run of the schedule, claimed by a worker."""
    with Session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        run = crud.trigger_run(session, schedule=schedule, now=now, lease_until=now + GRACE)
        session.commit()
        run_id = run.id
    [claimed] = claim_runs(engine, [run_id], now, lease_grace=GRACE)
    return claimed


def outcome(now: datetime, status: int) -> AttemptOutcome:
    error_class = "success" if status < 300 else "http_4xx"
    return AttemptOutcome(now, 5.0, status, {}, "", error_class, f"HTTP {status}", None)


def finish(engine, claimed, status: int, now: datetime) -> None:
    delivered = Delivered(claimed, outcome(now, status), {})
    record_outcomes(engine, [delivered], now, lease_grace=GRACE)


def events(engine) -> list[str]:
    with Session(engine) as session:
        return [a.event for a in session.exec(select(Alert).order_by(Alert.id))]


def test_a_streak_pauses_alerts_and_recovers(engine):
    workspace_id = make_workspace(engine)
    with Session(engine) as session:
        session.add(
            NotificationChannel(
                workspace_id=workspace_id, name="a", kind="webhook", url="http://a/"
            )
        )
        session.add(
            NotificationChannel(
                workspace_id=workspace_id,
                name="off",
                kind="webhook",
                url="http://b/",
                enabled=False,
            )
        )
        session.commit()
    schedule_id = make_schedule(
        engine,
        workspace_id,
        kind="interval",
        every=1,
        unit="hours",
        url="http://x.test/",
        max_attempts=1,
        auto_pause_after=2,
    )
    now = datetime.now(UTC)

    first = fire(engine, schedule_id, now)
    finish(engine, first, 404, now)
    schedule = get_schedule(engine, schedule_id)
    assert (schedule.status, schedule.consecutive_failures) == ("active", 1)
    assert schedule.failing_since == first.scheduled_for

    second = fire(engine, schedule_id, now + timedelta(seconds=1))
    finish(engine, second, 404, now)
    # A duplicate of the same attempt (a worker whose lease ran out) counts nothing.
    finish(engine, second, 404, now)
    schedule = get_schedule(engine, schedule_id)
    assert (schedule.status, schedule.consecutive_failures) == ("paused", 2)
    assert schedule.next_run_at is None
    assert schedule.paused_reason == (
        "auto-paused after 2 failed runs in a row (last: http_4xx (HTTP 404))"
    )
    # One row per enabled channel only.
    assert events(engine) == ["run_failed", "auto_paused"]  # not an alert per failure

    third = fire(engine, schedule_id, now + timedelta(seconds=2))
    finish(engine, third, 200, now)
    schedule = get_schedule(engine, schedule_id)
    assert (schedule.consecutive_failures, schedule.failing_since) == (0, None)
    assert schedule.status == "paused"  # a manual success does not resume it
    assert events(engine)[-1] == "recovered"


def test_successes_without_a_streak_touch_nothing(engine):
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(
        engine, workspace_id, kind="interval", every=1, unit="hours", url="http://x.test/"
    )
    before = get_schedule(engine, schedule_id)
    now = datetime.now(UTC)
    finish(engine, fire(engine, schedule_id, now), 200, now)
    after = get_schedule(engine, schedule_id)
    assert after.updated_at == before.updated_at
    assert (after.consecutive_failures, after.failing_since) == (0, None)
    assert events(engine) == []
