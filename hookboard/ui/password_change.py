"""Changing a password: the current one must match; every other session ends.

It belongs beside signup and login in hookboard.accounts (which is outside the
dashboard's files), and reuses its rules: the same password checks, bcrypt, and
the same exceptions. No Reflex.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select, update

from hookboard.accounts import InvalidInputError, validate_new_password
from hookboard.models import AuthSession, User
from hookboard.passwords import hash_password, verify_password
from hookboard.tokens import hash_token


def change_password(
    session: Session, *, user_id: int, current: str, new: str, keep_token: str
) -> int:
    """Set a new password; revoke the user's other sessions. Returns how many were revoked."""
    validate_new_password(new)
    stored = session.exec(select(User.password_hash).where(User.id == user_id)).first()
    session.rollback()  # hold no transaction (nor SQLite's lock) during bcrypt
    if stored is None or not verify_password(current, stored):
        raise InvalidInputError("current_password", "the current password is not right")
    new_hash = hash_password(new)
    now = datetime.now(UTC)
    session.exec(
        update(User).where(User.id == user_id).values(password_hash=new_hash, updated_at=now)
    )
    revoked = session.exec(
        update(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            col(AuthSession.revoked_at).is_(None),
            AuthSession.token_hash != hash_token(keep_token),
        )
        .values(revoked_at=now)
    )
    session.commit()
    return revoked.rowcount
