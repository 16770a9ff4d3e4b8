"""Who a bearer token belongs to: the lookups the API and the dashboard share.

Each is one indexed Core select by the token's hash (no ORM objects: this runs
on every request), built once at import: a statement object memoises its cache
key, so a request skips building and keying it. A user who is no longer active
owns no live credential.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Row, bindparam, or_, select, update

from hookboard.domain.tokens import hash_token
from hookboard.models import ApiKey, AuthSession, User

_FIND_SESSION = (
    select(
        AuthSession.id,
        AuthSession.user_id,
        User.email,
        AuthSession.revoked_at,
        AuthSession.expires_at,
        AuthSession.last_used_at,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash"), User.is_active)
)

_FIND_API_KEY = (
    select(ApiKey.id, ApiKey.user_id, ApiKey.scope, ApiKey.revoked_at, ApiKey.last_used_at)
    .join(User, User.id == ApiKey.user_id)
    .where(ApiKey.key_hash == bindparam("token_hash"), User.is_active)
)


# last_used_at of a session or key is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def find_session(connection: Connection, token: str) -> Row | None:
    """(id, user_id, email, revoked_at, expires_at, last_used_at) of the token, or None."""
    return connection.execute(_FIND_SESSION, {"token_hash": hash_token(token)}).first()


def session_is_live(found: Row, now: datetime) -> bool:
    return found.revoked_at is None and found.expires_at > now


def find_api_key(connection: Connection, token: str) -> Row | None:
    """(id, user_id, scope, revoked_at, last_used_at) of the API key, or None."""
    return connection.execute(_FIND_API_KEY, {"token_hash": hash_token(token)}).first()


def touch_session(engine: Engine, found: Row, now: datetime) -> None:
    """Record that a found session was used, once per LAST_USED_RESOLUTION: the
    conditional UPDATE lets one of several concurrent requests write, in its own
    short transaction."""
    stale = now - LAST_USED_RESOLUTION
    if found.last_used_at is not None and found.last_used_at > stale:
        return
    with engine.begin() as connection:
        connection.execute(
            update(AuthSession)
            .where(
                AuthSession.id == found.id,
                or_(AuthSession.last_used_at.is_(None), AuthSession.last_used_at <= stale),
            )
            .values(last_used_at=now)
        )
