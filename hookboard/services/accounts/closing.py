"""Deleting an account: closed at once, its data deleted in batches.

An account that is the last owner of a workspace other members still use
cannot be deleted (409 `last_owner`): someone must be made owner first, or
the workspace deleted. Otherwise closing stops everything in one short
transaction: the account can no longer sign in, its sessions are revoked, it
leaves the workspaces it shares, and the workspaces it alone belongs to (its
personal one among them) are stopped as a deleted workspace is
(services.workspaces.lifecycle). Their rows are deleted in batches by
engine.purge: here for a moment, so a small account is gone when the call
returns, and by the tickers for what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from hookboard.models import AuthSession, Membership, User, Workspace
from hookboard.services.accounts import two_factor
from hookboard.services.accounts.errors import InvalidInputError, NeedsSessionError
from hookboard.services.accounts.rules import now_or_utc
from hookboard.services.accounts.sessions import confirm_password
from hookboard.services.accounts.two_factor import confirm_code
from hookboard.services.errors import Conflict
from hookboard.services.ratelimit import RateLimiter
from hookboard.services.workspaces.lifecycle import purge_now, stop_workspaces
from hookboard.settings import Settings


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
    now = now_or_utc(now)
    stopped = close_account(session, user_id=user_id, now=now)
    finished = purge_now(session, stopped)
    return ClosedAccount(closed_at=now, data_deleted=finished)


def close_account(session: Session, *, user_id: int, now: datetime | None = None) -> list[int]:
    """Stop the account in one transaction; the ids of the workspaces it took down."""
    now = now_or_utc(now)
    alone, orphaned = _workspaces_of(session, user_id)
    if orphaned:
        raise Conflict(
            f"you are the last owner of the workspace {orphaned[0]!r}, which other members"
            " use: make one of them an owner, or delete the workspace, first",
            code="last_owner",
        )
    users, sessions = User.__table__, AuthSession.__table__
    session.execute(
        update(users).where(users.c.id == user_id).values(is_active=False, updated_at=now)
    )
    session.execute(
        update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    stop_workspaces(session, alone, now)
    memberships = Membership.__table__
    shared = memberships.c.workspace_id.not_in(alone) if alone else memberships.c.id.is_not(None)
    session.execute(delete(memberships).where(memberships.c.user_id == user_id, shared))
    session.commit()
    return alone


def _workspaces_of(session: Session, user_id: int) -> tuple[list[int], list[str]]:
    """(the live workspaces the user alone belongs to, the names of those where they
    are the last owner beside other members)."""
    mine = aliased(Membership)
    others = aliased(Membership)
    rows = session.execute(
        select(
            Workspace.id,
            Workspace.name,
            mine.role,
            select(func.count())
            .where(others.workspace_id == Workspace.id, others.user_id != user_id)
            .scalar_subquery(),
            select(func.count())
            .where(
                others.workspace_id == Workspace.id,
                others.user_id != user_id,
                others.role == "owner",
            )
            .scalar_subquery(),
        )
        .join(mine, mine.workspace_id == Workspace.id)
        .where(mine.user_id == user_id, Workspace.deleted_at.is_(None))
    ).all()
    alone = [id_ for id_, _name, _role, members, _owners in rows if members == 0]
    orphaned = [
        name
        for _id, name, role, members, owners in rows
        if members and role == "owner" and owners == 0
    ]
    return alone, orphaned
