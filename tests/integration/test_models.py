"""The schema's guarantees, on both databases."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hookboard.models import Run, Schedule, Workspace


def make_workspace(session: Session, name: str = "team") -> Workspace:
    workspace = Workspace(name=name)
    session.add(workspace)
    session.flush()
    return workspace


def make_schedule(session: Session, workspace: Workspace) -> Schedule:
    schedule = Schedule(
        workspace_id=workspace.id, name="s", kind="interval", every=1, unit="minutes"
    )
    session.add(schedule)
    session.flush()
    return schedule


def test_a_firing_cannot_be_recorded_twice(engine):
    instant = datetime(2026, 1, 1, 12, tzinfo=UTC)
    with Session(engine) as session:
        workspace = make_workspace(session)
        schedule = make_schedule(session, workspace)
        run = Run(workspace_id=workspace.id, schedule_id=schedule.id, scheduled_for=instant)
        session.add(run)
        session.commit()
        again = Run(workspace_id=workspace.id, schedule_id=schedule.id, scheduled_for=instant)
        session.add(again)
        with pytest.raises(IntegrityError):
            session.commit()


def test_datetimes_come_back_aware_and_in_utc(engine):
    berlin_noon = datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    with Session(engine) as session:
        workspace = make_workspace(session)
        schedule = make_schedule(session, workspace)
        schedule.next_run_at = berlin_noon
        session.commit()
        schedule_id = schedule.id
    with Session(engine) as session:
        stored = session.get(Schedule, schedule_id).next_run_at
    assert stored.tzinfo is not None
    assert stored == datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(engine):
    with Session(engine) as session:
        workspace = make_workspace(session)
        schedule = make_schedule(session, workspace)
        schedule.next_run_at = datetime(2026, 1, 1, 12)
        with pytest.raises(Exception, match="timezone"):
            session.commit()


def test_deleting_a_workspace_deletes_what_it_owns(engine):
    with Session(engine) as session:
        workspace = make_workspace(session)
        make_schedule(session, workspace)
        session.commit()
        session.delete(workspace)
        session.commit()
        assert session.exec(select(Schedule)).all() == []
