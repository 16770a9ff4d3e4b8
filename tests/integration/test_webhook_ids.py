"""Each run's webhook-id is its own: the ticker's runs, manual runs and replays,
on both databases; a deleted schedule's runs never lend theirs to another user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from hookboard.domain.webhook_ids import DELIVERY_KEY_PREFIX
from hookboard.engine.claim import claim_runs
from hookboard.engine.dispatch import dispatch_due
from hookboard.models import Run, RunStatus, Schedule
from hookboard.services import crud
from tests.support.engine import make_schedule, make_workspace

GRACE = timedelta(seconds=30)


def _fire(engine, now: datetime) -> list[int]:
    result = dispatch_due(engine, now, limit=100, misfire_grace=GRACE, lease_grace=GRACE)
    return result.run_ids


def _schedule_due(engine, workspace_id: int, now: datetime) -> int:
    schedule_id = make_schedule(
        engine, workspace_id, kind="interval", every=1, unit="hours", url="https://example.com/x"
    )
    with engine.begin() as connection:
        connection.execute(
            update(Schedule.__table__)
            .where(Schedule.__table__.c.id == schedule_id)
            .values(next_run_at=now - timedelta(seconds=1))
        )
    return schedule_id


def _webhook_ids(engine, run_ids: list[int], now: datetime) -> dict[int, str]:
    claimed = claim_runs(engine, run_ids, now, lease_grace=GRACE)
    return {run.run_id: run.webhook_id for run in claimed}


def test_a_deleted_schedules_run_ids_and_webhook_ids_are_not_given_to_another_user(engine):
    now = datetime.now(UTC)
    alice, bob = (
        make_workspace(engine, "alice@example.com"),
        make_workspace(engine, "bob@example.com"),
    )
    alices = _schedule_due(engine, alice, now)
    [alices_run] = _fire(engine, now)
    alices_id = _webhook_ids(engine, [alices_run], now)[alices_run]
    with Session(engine) as session:
        session.delete(session.get(Schedule, alices))  # its runs go with it
        session.commit()

    bobs = _schedule_due(engine, bob, now)
    assert bobs > alices
    [bobs_run] = _fire(engine, now)
    bobs_id = _webhook_ids(engine, [bobs_run], now)[bobs_run]
    assert bobs_run > alices_run
    assert alices_id.startswith(DELIVERY_KEY_PREFIX) and bobs_id.startswith(DELIVERY_KEY_PREFIX)
    assert bobs_id != alices_id


def test_manual_runs_get_a_key_and_a_replay_keeps_it(engine):
    now = datetime.now(UTC)
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(
        engine, workspace_id, kind="interval", every=1, unit="hours", url="https://example.com/x"
    )
    with Session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        run = crud.trigger_run(session, schedule=schedule, now=now, lease_until=now + GRACE)
        session.commit()
        run_id, key = run.id, run.delivery_key
    assert key.startswith(DELIVERY_KEY_PREFIX)
    assert _webhook_ids(engine, [run_id], now) == {run_id: key}

    with Session(engine) as session:
        run = session.get(Run, run_id)
        run.status = RunStatus.failed
        session.commit()
        crud.replay_run(session, run=run, lease_until=now + GRACE)
        session.commit()
    assert _webhook_ids(engine, [run_id], now) == {run_id: key}


def test_a_run_recorded_before_keys_existed_is_sent_with_its_old_id(engine):
    now = datetime.now(UTC)
    workspace_id = make_workspace(engine)
    _schedule_due(engine, workspace_id, now)
    [run_id] = _fire(engine, now)
    with engine.begin() as connection:  # as the migration leaves existing runs
        connection.execute(
            update(Run.__table__).where(Run.__table__.c.id == run_id).values(delivery_key=None)
        )
    assert _webhook_ids(engine, [run_id], now) == {run_id: f"run_{run_id}"}
