"""Who a bearer token belongs to: the lookups the API and the dashboard share.

Each is one indexed Core select by the token's hash (no ORM objects: this runs
on every request), built once at import: a statement object memoises its cache
key, so a request skips building and keying it. A user who is no longer active
owns no live credential.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, bindparam, select

from hookboard.domain.tokens import hash_token
from hookboard.models import ApiKey, AuthSession, User

_FIND_SESSION = (
    select(
        AuthSession.id,
        AuthSession.user_id,
        User.email,
        AuthSession.revoked_at,
        AuthSession.expires_at,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash"), User.is_active)
)

_FIND_API_KEY = (
    select(ApiKey.id, ApiKey.user_id, ApiKey.scope, ApiKey.revoked_at, ApiKey.last_used_at)
    .join(User, User.id == ApiKey.user_id)
    .where(ApiKey.key_hash == bindparam("token_hash"), User.is_active)
)


def find_session(connection: Connection, token: str) -> Row | None:
    """(id, user_id, email, revoked_at, expires_at) of the session token, or None."""
    return connection.execute(_FIND_SESSION, {"token_hash": hash_token(token)}).first()


def session_is_live(found: Row, now: datetime) -> bool:
    return found.revoked_at is None and found.expires_at > now


def find_api_key(connection: Connection, token: str) -> Row | None:
    """(id, user_id, scope, revoked_at, last_used_at) of the API key, or None."""
    return connection.execute(_FIND_API_KEY, {"token_hash": hash_token(token)}).first()
