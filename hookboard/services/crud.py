"""Queries and mutations shared by the API, the dashboard and the tests.

Keyword-only functions that take a session and never commit: the caller's
transaction decides.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from hookboard.domain.firing import first_run_at, spec_for
from hookboard.domain.passwords import hash_password
from hookboard.domain.schedules import validate
from hookboard.domain.signing import generate_secret
from hookboard.models import (
    Membership,
    Run,
    RunStatus,
    RunTrigger,
    Schedule,
    SigningSecret,
    User,
    Workspace,
)


class NotReplayableError(ValueError):
    pass


PERSONAL_WORKSPACE_NAME = "Personal"


def create_user(session: Session, *, email: str, password: str) -> User:
    """A user with a bcrypt password and a personal workspace they own."""
    user = User(email=email.strip().lower(), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    create_workspace(session, name=PERSONAL_WORKSPACE_NAME, owner_id=user.id, personal=True)
    return user


def create_workspace(
    session: Session, *, name: str, owner_id: int, personal: bool = False
) -> Workspace:
    """A workspace with its first owner and a fresh signing secret."""
    workspace = Workspace(name=name, personal_for_user_id=owner_id if personal else None)
    session.add(workspace)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=owner_id, role="owner"))
    session.add(SigningSecret(workspace_id=workspace.id, secret=generate_secret()))
    session.flush()
    return workspace


def personal_workspace_id(session: Session, user_id: int) -> int | None:
    """The workspace a user's sessions act in by default."""
    found = select(Workspace.id).where(Workspace.personal_for_user_id == user_id)
    return session.exec(found).first()


def create_schedule(
    session: Session, *, workspace_id: int, now: datetime, **fields: Any
) -> Schedule:
    """Validate the timing, anchor intervals at their start (or now), plan the first firing."""
    schedule = Schedule(workspace_id=workspace_id, **fields)
    schedule.anchor_at = schedule.starts_at or now
    validate(spec_for(schedule))
    schedule.next_run_at = first_run_at(schedule, now)
    if schedule.next_run_at is None:
        schedule.status = "completed"
    session.add(schedule)
    session.flush()
    return schedule


def trigger_run(session: Session, *, schedule: Schedule, now: datetime, lease_until: datetime):
    """A manual firing ("run now"), delivered like any other run."""
    run = Run(
        workspace_id=schedule.workspace_id,
        schedule_id=schedule.id,
        scheduled_for=now,
        trigger=RunTrigger.manual,
        max_attempts=schedule.max_attempts,
        created_at=now,
        lease_expires_at=lease_until,
    )
    session.add(run)
    session.flush()
    # Like a scheduled firing, a manual run in flight holds back overlapping ones.
    schedule.last_run_id = run.id
    session.add(schedule)
    return run


def replay_run(session: Session, *, run: Run, lease_until: datetime) -> Run:
    """Give a failed run one more attempt, under the same run and webhook-id."""
    if run.status != RunStatus.failed:
        raise NotReplayableError(f"only a failed run can be replayed (this one is {run.status})")
    run.status = RunStatus.pending
    run.max_attempts = run.attempt_count + 1
    run.finished_at = None
    run.next_attempt_at = None
    run.lease_expires_at = lease_until
    session.add(run)
    session.flush()
    return run
