"""The audit log's engine side, on SQLite and PostgreSQL: a schedule's auto-pause
writes its row (actor "system") in the pause's own transaction, and retention
deletes old rows in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, text
from sqlmodel import Session, select

from hookboard.engine import retention
from hookboard.engine.claim import claim_runs
from hookboard.engine.record import Delivered, record_outcomes
from hookboard.models import AuditEvent, Schedule
from hookboard.net.outcome import AttemptOutcome
from hookboard.services import crud
from tests.api.test_audit_events import ALLOW_AUDIT_INSERTS, FAIL_AUDIT_INSERTS

GRACE = timedelta(seconds=30)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def make_schedule(engine, **fields) -> tuple[int, int]:
    """(workspace id, schedule id) of a new user's schedule."""
    with Session(engine) as session:
        user = crud.create_user(session, email="owner@example.com", password="correct horse")
        workspace_id = crud.personal_workspace_id(session, user.id)
        schedule = crud.create_schedule(
            session, workspace_id=workspace_id, now=datetime.now(UTC), name="flaky", **fields
        )
        session.commit()
        return workspace_id, schedule.id


def fail_once(engine, schedule_id: int, now: datetime) -> None:
    """A manual run of the schedule, claimed, answered 404."""
    with Session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        run = crud.trigger_run(session, schedule=schedule, now=now, lease_until=now + GRACE)
        session.commit()
        run_id = run.id
    [claimed] = claim_runs(engine, [run_id], now, lease_grace=GRACE)
    outcome = AttemptOutcome(now, 5.0, 404, {}, "", "http_4xx", "HTTP 404", None)
    record_outcomes(engine, [Delivered(claimed, outcome, {})], now, lease_grace=GRACE)


def audit_rows(engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def status_of(engine, schedule_id: int) -> str:
    with Session(engine) as session:
        return session.get(Schedule, schedule_id).status


FLAKY = {
    "kind": "interval",
    "every": 1,
    "unit": "hours",
    "url": "http://x.test/",
    "max_attempts": 1,
    "auto_pause_after": 2,
}


def test_an_auto_pause_is_recorded_by_the_system(engine):
    workspace_id, schedule_id = make_schedule(engine, **FLAKY)
    now = datetime.now(UTC)
    fail_once(engine, schedule_id, now)
    assert audit_rows(engine) == []  # one failure pauses nothing
    fail_once(engine, schedule_id, now + timedelta(seconds=1))

    assert status_of(engine, schedule_id) == "paused"
    [row] = audit_rows(engine)
    assert (row.workspace_id, row.action, row.object_type, row.object_id) == (
        workspace_id,
        "schedule.auto_pause",
        "schedule",
        str(schedule_id),
    )
    assert (row.actor_type, row.actor_id, row.actor_email, row.ip) == ("system", None, None, None)
    assert row.changes["status"] == ["active", "paused"]
    assert row.changes["paused_reason"][1].startswith("auto-paused after 2 failed runs")


def test_an_auto_pause_without_its_row_does_not_happen(engine):
    _, schedule_id = make_schedule(engine, **FLAKY)
    now = datetime.now(UTC)
    fail_once(engine, schedule_id, now)
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for statement in FAIL_AUDIT_INSERTS[dialect]:
            connection.execute(text(statement))
    try:
        with pytest.raises(Exception, match="audit refused by the test"):
            fail_once(engine, schedule_id, now + timedelta(seconds=1))
    finally:
        with engine.begin() as connection:
            for statement in ALLOW_AUDIT_INSERTS[dialect]:
                connection.execute(text(statement))
    assert status_of(engine, schedule_id) == "active"
    assert audit_rows(engine) == []


def add_events(engine, workspace_id: int, count: int, at: datetime) -> None:
    row = {
        "workspace_id": workspace_id,
        "at": at,
        "actor_type": "user",
        "action": "schedule.update",
        "object_type": "schedule",
        "changes": {},
    }
    with Session(engine) as session:
        session.execute(insert(AuditEvent), [row] * count)
        session.commit()


def count_events(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_old_audit_events_go_in_batches(engine, monkeypatch):
    workspace_id, _ = make_schedule(engine, kind="interval", every=1, unit="hours")
    add_events(engine, workspace_id, 20, NOW - timedelta(days=366))
    add_events(engine, workspace_id, 3, NOW - timedelta(days=364))
    year = timedelta(days=365)

    # At most MAX_BATCHES_PER_CALL batches a call: the rest waits for the next one.
    monkeypatch.setattr(retention, "MAX_BATCHES_PER_CALL", 2)
    assert retention.purge_audit_events(engine, year, now=NOW, batch_size=7) == 14
    assert count_events(engine) == 9
    monkeypatch.undo()
    assert retention.purge_audit_events(engine, year, now=NOW, batch_size=7) == 6
    assert count_events(engine) == 3
    assert retention.purge_audit_events(engine, year, now=NOW) == 0
