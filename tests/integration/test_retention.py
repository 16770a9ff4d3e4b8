import itertools
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from hookboard.engine import retention
from hookboard.models import Attempt, Run
from tests.support.engine import make_schedule, make_user

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_distinct = itertools.count()  # each firing needs its own instant


def add_runs(engine, schedule_id, user_id, count, created_at, status="succeeded"):
    with Session(engine) as session:
        for _ in range(count):
            run = Run(
                user_id=user_id,
                schedule_id=schedule_id,
                status=status,
                created_at=created_at,
                scheduled_for=created_at + timedelta(microseconds=next(_distinct)),
            )
            session.add(run)
            session.flush()
            session.add(
                Attempt(
                    run_id=run.id,
                    user_id=user_id,
                    number=1,
                    started_at=created_at,
                    error_class="success",
                    request_method="POST",
                    request_url="http://x.test/",
                )
            )
        session.commit()


def count(engine, model):
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_old_finished_runs_and_their_attempts_go_in_batches(engine, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 7)
    user_id = make_user(engine)
    schedule_id = make_schedule(engine, user_id, kind="interval", every=1, unit="hours")
    add_runs(engine, schedule_id, user_id, 20, NOW - timedelta(days=8))
    add_runs(engine, schedule_id, user_id, 3, NOW - timedelta(days=8), status="retrying")
    add_runs(engine, schedule_id, user_id, 5, NOW - timedelta(days=6))

    deleted = retention.purge_expired(engine, timedelta(days=7), now=NOW)

    assert deleted == 20
    assert count(engine, Run) == 8  # the recent ones and the old run still in flight
    assert count(engine, Attempt) == 8
