import itertools
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from hookboard.engine import retention
from hookboard.models import Attempt, Run
from tests.support.engine import make_schedule, make_workspace

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_distinct = itertools.count()  # each firing needs its own instant


def add_runs(engine, schedule_id, workspace_id, count, created_at, status="succeeded"):
    with Session(engine) as session:
        for _ in range(count):
            run = Run(
                workspace_id=workspace_id,
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
                    workspace_id=workspace_id,
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


def test_failed_runs_are_kept_for_their_own_longer_period(engine, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 3)
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(engine, workspace_id, kind="interval", every=1, unit="hours")
    add_runs(engine, schedule_id, workspace_id, 4, NOW - timedelta(days=8))
    add_runs(engine, schedule_id, workspace_id, 5, NOW - timedelta(days=8), status="failed")
    add_runs(engine, schedule_id, workspace_id, 7, NOW - timedelta(days=31), status="failed")

    deleted = retention.purge_expired(
        engine, timedelta(days=7), now=NOW, failed_retention=timedelta(days=30)
    )

    assert deleted == 4 + 7  # the old successes, and the failures past 30 days
    with Session(engine) as session:
        kept = session.exec(select(Run.status, func.count()).group_by(Run.status)).all()
    assert dict(kept) == {"failed": 5}
    assert count(engine, Attempt) == 5
    # Without a period of their own, failed runs go with the others.
    assert retention.purge_expired(engine, timedelta(days=7), now=NOW) == 5


def test_old_finished_runs_and_their_attempts_go_in_batches(engine, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 7)
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(engine, workspace_id, kind="interval", every=1, unit="hours")
    add_runs(engine, schedule_id, workspace_id, 20, NOW - timedelta(days=8))
    add_runs(engine, schedule_id, workspace_id, 3, NOW - timedelta(days=8), status="retrying")
    add_runs(engine, schedule_id, workspace_id, 5, NOW - timedelta(days=6))

    deleted = retention.purge_expired(engine, timedelta(days=7), now=NOW)

    assert deleted == 20
    assert count(engine, Run) == 8  # the recent ones and the old run still in flight
    assert count(engine, Attempt) == 8
