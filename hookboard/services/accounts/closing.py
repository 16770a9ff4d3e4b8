"""Deleting an account: closed at once, its data deleted in batches.

Closing stops everything in one short transaction: the account can no longer
sign in, its sessions and API keys are revoked, its schedules are paused, and
its unfinished runs and unsent alerts are deleted, so no new request leaves
(a request already in the air finishes; its outcome finds its run gone and is
dropped). The rest of its rows are deleted in batches by
engine.account_purge: here for a moment, so a small account is gone when the
call returns, and by the tickers for what is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from hookboard.domain.firing import IN_FLIGHT
from hookboard.engine.account_purge import purge_account
from hookboard.models import (
    Alert,
    AlertStatus,
    ApiKey,
    Attempt,
    AuthSession,
    Run,
    Schedule,
    ScheduleStatus,
    User,
)
from hookboard.services.accounts import two_factor
from hookboard.services.accounts.errors import InvalidInputError, NeedsSessionError
from hookboard.services.accounts.rules import now_or_utc
from hookboard.services.accounts.sessions import confirm_password
from hookboard.services.accounts.two_factor import confirm_code
from hookboard.services.ratelimit import RateLimiter
from hookboard.settings import Settings

# How long the closing call itself deletes before leaving the rest to the tickers.
PURGE_SECONDS_IN_CALL = 2.0
CLOSED_REASON = "account closed"


@dataclass(frozen=True)
class ClosedAccount:
    closed_at: datetime
    data_deleted: bool  # False: the tickers delete the rest within minutes


def delete_account(
    session: Session,
    *,
    user_id: int,
    password: str,
    by_session: bool,
    code: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> ClosedAccount:
    """Close the account when `password` is its password, then delete its data.

    A wrong password counts as a failed login for the account's email (a stolen
    session cannot guess faster than the login form); past the limit,
    LoginThrottledError. Raises InvalidInputError("password") when it is wrong,
    InvalidCodeError("code") without a right two-factor code when it is on,
    and NeedsSessionError for an API key (`by_session` False): closing an
    account is a person's act."""
    if not by_session:
        raise NeedsSessionError("deleting the account")
    confirm_password(
        session,
        user_id=user_id,
        password=password,
        field="password",
        settings=settings,
        limiter=limiter,
    )
    if two_factor.status(session, user_id=user_id).enabled:
        if not code:
            raise InvalidInputError("code", "two-factor login is on: a code is required")
        confirm_code(
            session,
            user_id=user_id,
            code=code,
            now=now_or_utc(now),
            settings=settings,
            limiter=limiter,
        )
    closed_at = close_account(session, user_id=user_id, now=now)
    engine = session.get_bind()
    finished = purge_account(engine, user_id, deadline=time.monotonic() + PURGE_SECONDS_IN_CALL)
    return ClosedAccount(closed_at=closed_at, data_deleted=finished)


def close_account(session: Session, *, user_id: int, now: datetime | None = None) -> datetime:
    """Stop the account in one transaction (see the module's docstring)."""
    now = now_or_utc(now)
    users, runs = User.__table__, Run.__table__
    unfinished = select(runs.c.id).where(runs.c.user_id == user_id, runs.c.status.in_(IN_FLIGHT))
    statements = [
        update(users).where(users.c.id == user_id).values(is_active=False, updated_at=now),
        _revoke(AuthSession, user_id, now),
        _revoke(ApiKey, user_id, now),
        update(Schedule.__table__)
        .where(Schedule.__table__.c.user_id == user_id)
        .values(status=ScheduleStatus.paused, paused_reason=CLOSED_REASON, next_run_at=None),
        delete(Attempt.__table__).where(Attempt.__table__.c.run_id.in_(unfinished)),
        delete(runs).where(runs.c.id.in_(unfinished)),
        delete(Alert.__table__).where(
            Alert.__table__.c.user_id == user_id,
            Alert.__table__.c.status.in_((AlertStatus.pending, AlertStatus.sending)),
        ),
    ]
    for statement in statements:
        session.execute(statement)
    session.commit()
    return now


def _revoke(model, user_id: int, now: datetime):
    table = model.__table__
    return (
        update(table)
        .where(table.c.user_id == user_id, table.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
