"""A closed account stops at once and its workspaces' rows go in batches,
resumed by the tickers when the closing call runs out of time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlmodel import Session

from hookboard.engine import purge
from hookboard.engine.purge import purge_deleted, purge_workspace
from hookboard.models import Run, Schedule, User, Workspace
from hookboard.services.accounts import close_account
from tests.support.engine import EngineProcesses, make_account, make_schedule
from tests.support.receiver import Receiver


def _count(engine, model, workspace_id: int) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        return connection.execute(query).scalar_one()


def _many_runs(engine, workspace_id: int, schedule_id: int, count: int) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    rows = [
        {
            "workspace_id": workspace_id,
            "schedule_id": schedule_id,
            "scheduled_for": start + timedelta(seconds=n),
            "trigger": "schedule",
            "status": "succeeded",
            "attempt_count": 1,
            "max_attempts": 1,
            "created_at": start,
        }
        for n in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Run.__table__), rows)


def _close(engine, user_id: int) -> None:
    with Session(engine) as session:
        close_account(session, user_id=user_id)


def test_a_large_account_is_purged_in_batches_and_resumed_by_the_next_pass(engine):
    big = make_account(engine, "big@example.com")
    other = make_account(engine, "other@example.com")
    schedule_id = make_schedule(engine, big.workspace_id, kind="interval", every=1, unit="hours")
    other_schedule = make_schedule(
        engine, other.workspace_id, kind="interval", every=1, unit="hours"
    )
    _many_runs(engine, big.workspace_id, schedule_id, 2 * purge.BATCH_SIZE + 5)
    _many_runs(engine, other.workspace_id, other_schedule, 10)
    _close(engine, big.user_id)

    out_of_time = purge_workspace(engine, big.workspace_id, deadline=time.monotonic())
    assert out_of_time is False
    assert _count(engine, Run, big.workspace_id) == 2 * purge.BATCH_SIZE + 5
    # The workspace, then the account left without one.
    assert purge_deleted(engine, deadline=time.monotonic() + 60) == 2

    with Session(engine) as session:
        assert session.get(User, big.user_id) is None
        assert session.get(Workspace, big.workspace_id) is None
        assert session.get(User, other.user_id).is_active
    assert _count(engine, Run, big.workspace_id) == 0
    assert _count(engine, Schedule, big.workspace_id) == 0
    assert _count(engine, Run, other.workspace_id) == 10
    assert purge_deleted(engine) == 0  # a live account is never purged


def test_closing_stops_deliveries_at_once(engine, database_url, redis_url):
    account = make_account(engine)
    with Receiver() as receiver, EngineProcesses(database_url, redis_url) as processes:
        make_schedule(
            engine,
            account.workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            url=receiver.url + "/h",
        )
        processes.ticker()
        processes.worker()
        receiver.wait_for(2, timeout=20)
        _close(engine, account.user_id)
        closed_at = len(receiver.requests)
        time.sleep(3)  # a request already in the air may still land: at most one
        assert len(receiver.requests) <= closed_at + 1
    with Session(engine) as session:
        mine = Schedule.workspace_id == account.workspace_id
        [schedule] = session.scalars(select(Schedule).where(mine)).all()
    assert (schedule.status, schedule.next_run_at) == ("paused", None)
    # Unfinished runs went with the closing; what is left is history for the purge.
    with engine.connect() as connection:
        mine = Run.workspace_id == account.workspace_id
        statuses = connection.execute(select(Run.status).where(mine)).scalars()
        assert set(statuses) <= {"succeeded", "failed", "skipped"}
