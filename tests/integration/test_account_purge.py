"""A closed account stops at once and its rows go in batches, resumed by the
tickers when the closing call runs out of time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlmodel import Session

from hookboard.engine import account_purge
from hookboard.engine.account_purge import purge_account, purge_closed_accounts
from hookboard.models import Run, Schedule, User
from hookboard.services.accounts import close_account
from tests.support.engine import EngineProcesses, make_schedule, make_user
from tests.support.receiver import Receiver


def _count(engine, model, user_id: int) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(model).where(model.user_id == user_id)
        return connection.execute(query).scalar_one()


def _many_runs(engine, user_id: int, schedule_id: int, count: int) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    rows = [
        {
            "user_id": user_id,
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
    user_id = make_user(engine, "big@example.com")
    other_id = make_user(engine, "other@example.com")
    schedule_id = make_schedule(engine, user_id, kind="interval", every=1, unit="hours")
    other_schedule = make_schedule(engine, other_id, kind="interval", every=1, unit="hours")
    _many_runs(engine, user_id, schedule_id, 2 * account_purge.BATCH_SIZE + 5)
    _many_runs(engine, other_id, other_schedule, 10)
    _close(engine, user_id)

    assert purge_account(engine, user_id, deadline=time.monotonic()) is False  # out of time
    assert _count(engine, Run, user_id) == 2 * account_purge.BATCH_SIZE + 5
    assert purge_closed_accounts(engine, deadline=time.monotonic() + 60) == 1

    with Session(engine) as session:
        assert session.get(User, user_id) is None
        assert session.get(User, other_id).is_active
    assert _count(engine, Run, user_id) == 0 and _count(engine, Schedule, user_id) == 0
    assert _count(engine, Run, other_id) == 10
    assert purge_closed_accounts(engine) == 0  # a live account is never purged


def test_closing_stops_deliveries_at_once(engine, database_url, redis_url):
    user_id = make_user(engine)
    with Receiver() as receiver, EngineProcesses(database_url, redis_url) as processes:
        make_schedule(
            engine, user_id, kind="interval", every=1, unit="seconds", url=receiver.url + "/h"
        )
        processes.ticker()
        processes.worker()
        receiver.wait_for(2, timeout=20)
        _close(engine, user_id)
        closed_at = len(receiver.requests)
        time.sleep(3)  # a request already in the air may still land: at most one
        assert len(receiver.requests) <= closed_at + 1
    with Session(engine) as session:
        [schedule] = session.scalars(select(Schedule).where(Schedule.user_id == user_id)).all()
    assert (schedule.status, schedule.next_run_at) == ("paused", None)
    # Unfinished runs went with the closing; what is left is history for the purge.
    with engine.connect() as connection:
        statuses = connection.execute(select(Run.status).where(Run.user_id == user_id)).scalars()
        assert set(statuses) <= {"succeeded", "failed", "skipped"}
