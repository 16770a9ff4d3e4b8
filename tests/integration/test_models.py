"""The schema's guarantees, on both databases."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hookboard.models import Run, Schedule, User


def make_user(session: Session, email: str = "a@example.com") -> User:
    user = User(email=email, password_hash="x")
    session.add(user)
    session.flush()
    return user


def make_schedule(session: Session, user: User) -> Schedule:
    schedule = Schedule(user_id=user.id, name="s", kind="interval", every=1, unit="minutes")
    session.add(schedule)
    session.flush()
    return schedule


def test_a_firing_cannot_be_recorded_twice(engine):
    instant = datetime(2026, 1, 1, 12, tzinfo=UTC)
    with Session(engine) as session:
        user = make_user(session)
        schedule = make_schedule(session, user)
        session.add(Run(user_id=user.id, schedule_id=schedule.id, scheduled_for=instant))
        session.commit()
        session.add(Run(user_id=user.id, schedule_id=schedule.id, scheduled_for=instant))
        with pytest.raises(IntegrityError):
            session.commit()


def test_datetimes_come_back_aware_and_in_utc(engine):
    berlin_noon = datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    with Session(engine) as session:
        user = make_user(session)
        schedule = make_schedule(session, user)
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
        user = make_user(session)
        schedule = make_schedule(session, user)
        schedule.next_run_at = datetime(2026, 1, 1, 12)
        with pytest.raises(Exception, match="timezone"):
            session.commit()


def test_deleting_a_user_deletes_what_they_own(engine):
    with Session(engine) as session:
        user = make_user(session)
        make_schedule(session, user)
        session.commit()
        session.delete(user)
        session.commit()
        assert session.exec(select(Schedule)).all() == []
