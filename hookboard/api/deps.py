"""Shared route dependencies: the database session and who is calling.

    def route(session: SessionDep, caller: Caller): ...          # any valid token
    def route(session: SessionDep, caller: WriteCaller): ...     # write scope needed

A bearer token is either a dashboard/API session (`hbs_...`, full access) or
an API key (`hbk_...`, scope `read` or `write`). Anything else is a 401;
a read key on a write route is a 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header
from sqlmodel import Session, select

from hookboard.api.errors import ApiError
from hookboard.db import get_engine
from hookboard.models import ApiKey, AuthSession, User
from hookboard.tokens import API_KEY_PREFIX, SESSION_PREFIX, hash_token

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def get_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    user: User
    scope: str  # "read" or "write"
    api_key_id: int | None = None
    session_id: int | None = None

    @property
    def user_id(self) -> int:
        return self.user.id


def _unauthorized(message: str = "missing or invalid bearer token") -> ApiError:
    return ApiError(401, message, headers=UNAUTHORIZED_HEADERS)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized()
    return token.strip()


def get_principal(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    token = bearer_token(authorization)
    now = datetime.now(UTC)
    if token.startswith(SESSION_PREFIX):
        return _session_principal(session, token, now)
    if token.startswith(API_KEY_PREFIX):
        return _api_key_principal(session, token, now)
    raise _unauthorized()


def _session_principal(session: Session, token: str, now: datetime) -> Principal:
    row = session.exec(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise _unauthorized()
    auth, user = row
    if auth.revoked_at is not None or auth.expires_at <= now or not user.is_active:
        raise _unauthorized("session expired or revoked")
    return Principal(user=user, scope="write", session_id=auth.id)


def _api_key_principal(session: Session, token: str, now: datetime) -> Principal:
    row = session.exec(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == hash_token(token))
    ).first()
    if row is None:
        raise _unauthorized()
    key, user = row
    if key.revoked_at is not None or not user.is_active:
        raise _unauthorized("API key revoked")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
        session.commit()
    return Principal(user=user, scope=key.scope, api_key_id=key.id)


Caller = Annotated[Principal, Depends(get_principal)]


def require_write(caller: Caller) -> Principal:
    if caller.scope != "write":
        raise ApiError(403, "this API key is read-only", code="insufficient_scope")
    return caller


WriteCaller = Annotated[Principal, Depends(require_write)]
