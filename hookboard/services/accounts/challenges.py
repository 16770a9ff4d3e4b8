"""Login challenges: the step between a right password and a right two-factor code.

A challenge is a random token (only its sha256 is stored) bound to one user,
valid CHALLENGE_TTL, good for MAX_CHALLENGE_TRIES codes and one login. Every
check is a conditional UPDATE, so web processes sharing the database agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col

from hookboard.domain.tokens import hash_token, new_login_challenge
from hookboard.models import LoginChallenge

CHALLENGE_TTL = timedelta(minutes=5)
MAX_CHALLENGE_TRIES = 5


def open_challenge(session: Session, *, user_id: int, now: datetime) -> tuple[str, datetime]:
    """A new challenge token (shown once) and its expiry; the caller commits."""
    # The user's finished challenges go, so the table holds live ones only.
    session.connection().execute(
        delete(LoginChallenge).where(
            col(LoginChallenge.user_id) == user_id,
            or_(col(LoginChallenge.expires_at) <= now, col(LoginChallenge.used_at).is_not(None)),
        )
    )
    issued = new_login_challenge()
    expires_at = now + CHALLENGE_TTL
    session.add(
        LoginChallenge(
            user_id=user_id, token_hash=issued.token_hash, created_at=now, expires_at=expires_at
        )
    )
    return issued.token, expires_at


def take_try(session: Session, *, token: str, now: datetime) -> int | None:
    """Count one code try; the challenge's user id, or None when it is unknown,
    expired, used or out of tries. Commits (a try counts even if the code fails)."""
    counted = session.connection().execute(
        update(LoginChallenge)
        .where(
            col(LoginChallenge.token_hash) == hash_token(token),
            col(LoginChallenge.used_at).is_(None),
            col(LoginChallenge.expires_at) > now,
            col(LoginChallenge.tries) < MAX_CHALLENGE_TRIES,
        )
        .values(tries=col(LoginChallenge.tries) + 1)
        .returning(LoginChallenge.user_id)
    )
    user_id = counted.scalar_one_or_none()
    session.commit()
    return user_id


def close_challenge(session: Session, *, token: str, now: datetime) -> bool:
    """Mark the challenge used; False when another request did first. The caller commits."""
    closed = session.connection().execute(
        update(LoginChallenge)
        .where(
            col(LoginChallenge.token_hash) == hash_token(token),
            col(LoginChallenge.used_at).is_(None),
        )
        .values(used_at=now)
    )
    return closed.rowcount == 1
