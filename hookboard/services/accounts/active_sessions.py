"""A user's login sessions: list them, revoke one, revoke all but the current one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from hookboard.domain.tokens import hash_token
from hookboard.models import AuthSession
from hookboard.services.errors import NotFound

# A list shows the newest live sessions; older ones still work and can be
# revoked all at once ("log out every other session").
MAX_LISTED_SESSIONS = 100
MAX_USER_AGENT_CHARS = 300
MAX_CLIENT_IP_CHARS = 45  # the longest IPv6 text form


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    client_ip: str | None
    user_agent: str | None
    current: bool


def client_details(client_ip: str | None, user_agent: str | None) -> dict[str, str | None]:
    """The columns recording where a session was opened, cut to their sizes."""
    return {
        "client_ip": (client_ip or None) and client_ip[:MAX_CLIENT_IP_CHARS],
        "user_agent": (user_agent or None) and user_agent[:MAX_USER_AGENT_CHARS],
    }


def _live(user_id: int, now: datetime):
    return (
        col(AuthSession.user_id) == user_id,
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > now,
    )


def list_sessions(
    session: Session, *, user_id: int, current_session_id: int | None, now: datetime
) -> list[SessionInfo]:
    """The user's live sessions, newest first; `current` marks the caller's own."""
    rows = session.exec(
        select(AuthSession)
        .where(*_live(user_id, now))
        .order_by(col(AuthSession.id).desc())
        .limit(MAX_LISTED_SESSIONS)
    ).all()
    session.rollback()
    return [
        SessionInfo(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            client_ip=row.client_ip,
            user_agent=row.user_agent,
            current=row.id == current_session_id,
        )
        for row in rows
    ]


def revoke_session(session: Session, *, user_id: int, session_id: int, now: datetime) -> None:
    """End one of the user's live sessions; NotFound for any other (another user's too)."""
    ended = session.connection().execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, *_live(user_id, now))
        .values(revoked_at=now)
    )
    if ended.rowcount != 1:
        session.rollback()
        raise NotFound("session")
    session.commit()


def revoke_other_sessions(
    session: Session, *, user_id: int, keep_token: str | None, now: datetime
) -> int:
    """End every live session of the user but `keep_token`'s; how many ended.
    Part of the caller's transaction: the caller commits."""
    others = update(AuthSession).where(*_live(user_id, now))
    if keep_token:
        others = others.where(col(AuthSession.token_hash) != hash_token(keep_token))
    return session.connection().execute(others.values(revoked_at=now)).rowcount
