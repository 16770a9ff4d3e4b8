"""/auth/sessions: a user's login sessions; revoke one, or every other one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from hookboard.api.deps import PersonCaller, SessionDep, bearer_token
from hookboard.api.schemas.accounts import SessionList, SessionPublic, SessionsRevoked
from hookboard.services import MAX_ID, accounts
from hookboard.services.accounts.rules import now_or_utc

router = APIRouter(prefix="/auth/sessions", tags=["auth"])


@router.get("", response_model=SessionList)
def list_sessions(session: SessionDep, caller: PersonCaller) -> SessionList:
    """Live sessions, newest first (at most 100): when and where each was opened."""
    found = accounts.list_sessions(
        session, user_id=caller.user_id, current_session_id=caller.session_id, now=now_or_utc(None)
    )
    return SessionList(items=[SessionPublic(**info.__dict__) for info in found])


@router.delete("/{session_id}", status_code=204, response_class=Response)
def revoke_session(
    session_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, caller: PersonCaller
) -> None:
    """Log one session out (the current one too); 404 for another user's."""
    accounts.revoke_session(
        session, user_id=caller.user_id, session_id=session_id, now=now_or_utc(None)
    )


@router.delete("", response_model=SessionsRevoked)
def revoke_other_sessions(
    session: SessionDep,
    caller: PersonCaller,
    authorization: Annotated[str | None, Header()] = None,
) -> SessionsRevoked:
    """Log out every session but this one."""
    revoked = accounts.revoke_other_sessions(
        session,
        user_id=caller.user_id,
        keep_token=bearer_token(authorization),
        now=now_or_utc(None),
    )
    session.commit()
    return SessionsRevoked(revoked_sessions=revoked)
