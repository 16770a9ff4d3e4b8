"""Shared route dependencies: the database session and who is calling.

    def route(session: SessionDep, caller: Caller): ...          # any valid token
    def route(session: SessionDep, caller: WriteCaller): ...     # write scope needed

A bearer token is either a dashboard/API session (`hbs_...`, full access) or
an API key (`hbk_...`, scope `read` or `write`). Anything else is a 401;
a read key on a write route is a 403.

Every authenticated request counts against two per-minute limits in Redis, its
key or session's (RATE_LIMIT_PER_MINUTE) and its user's
(USER_RATE_LIMIT_PER_MINUTE); the answer carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time) of the tighter
one, and past it a 429 `rate_limited` with `Retry-After`. Without Redis,
requests go unlimited (see hookboard.services.ratelimit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, update
from sqlmodel import Session

from hookboard.api.errors import ApiError
from hookboard.core.db import get_engine, get_read_engine
from hookboard.domain.tokens import API_KEY_PREFIX, SESSION_PREFIX
from hookboard.models import ApiKey
from hookboard.services import credentials
from hookboard.services.credentials import LAST_USED_RESOLUTION
from hookboard.services.request_limits import RateLimited, count_request, credential_of

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Async, though routes are sync: opening a Session does no I/O, and FastAPI
    # would spend a worker-thread hop on entering a sync dependency and another
    # on leaving it (~0.3 ms of CPU each here).
    # Reads never write (but for _touch_api_key's own short transaction), so on
    # SQLite they run beside the worker's writes instead of queueing behind them.
    reading = request.method in SAFE_METHODS
    session = Session(get_read_engine() if reading else get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        if reading or not session.in_transaction():
            # Nothing to send: an autocommit or idle connection's rollback is a
            # no-op, and ending a SQLite read transaction never waits.
            session.close()
        else:
            # A write left open by an error: ROLLBACK is a round trip (and on
            # SQLite releases the write lock), so not on the event loop.
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    user_id: int
    scope: str  # "read" or "write"
    api_key_id: int | None = None
    session_id: int | None = None


def _unauthorized(message: str = "missing or invalid bearer token") -> ApiError:
    return ApiError(401, message, headers=UNAUTHORIZED_HEADERS)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized()
    return token.strip()


def get_principal(
    request: Request,
    response: Response,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    token = bearer_token(authorization)
    now = datetime.now(UTC)
    # A read request looks its token up on its own read connection: one pool
    # checkout (and ping) per request instead of two.
    reader = session.connection() if request.method in SAFE_METHODS else None
    if token.startswith(SESSION_PREFIX):
        principal = _session_principal(token, now, reader)
    elif token.startswith(API_KEY_PREFIX):
        principal = _api_key_principal(token, now, reader)
    else:
        raise _unauthorized()
    headers = enforce_rate_limit(principal)
    response.headers.update(headers)
    # For error handlers: a route's own errors are new responses, without them.
    request.state.rate_limit_headers = headers
    return principal


def enforce_rate_limit(principal: Principal) -> dict[str, str]:
    """Count the request (the service's rule); its X-RateLimit-* headers, or a 429."""
    credential = credential_of(api_key_id=principal.api_key_id, session_id=principal.session_id)
    try:
        return count_request(user_id=principal.user_id, credential=credential)
    except RateLimited as error:
        raise ApiError(429, str(error), code="rate_limited", headers=error.headers) from None


# A write request's token lookup uses its own short read, not the route's
# session: that may hold SQLite's write lock, which _touch_api_key would wait on.
def _lookup(find, token: str, reader: Connection | None):
    if reader is not None:
        return find(reader, token)
    with get_read_engine().connect() as connection:
        return find(connection, token)


def _session_principal(token: str, now: datetime, reader: Connection | None) -> Principal:
    found = _lookup(credentials.find_session, token, reader)
    if found is None:
        raise _unauthorized()
    if not credentials.session_is_live(found, now):
        raise _unauthorized("session expired or revoked")
    credentials.touch_session(get_engine(), found, now)
    return Principal(user_id=found.user_id, scope="write", session_id=found.id)


def _api_key_principal(token: str, now: datetime, reader: Connection | None) -> Principal:
    found = _lookup(credentials.find_api_key, token, reader)
    if found is None:
        raise _unauthorized()
    if found.revoked_at is not None:
        raise _unauthorized("API key revoked")
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
        _touch_api_key(found.id, now)
    return Principal(user_id=found.user_id, scope=found.scope, api_key_id=found.id)


def _touch_api_key(key_id: int, now: datetime) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


Caller = Annotated[Principal, Depends(get_principal)]


def require_write(caller: Caller) -> Principal:
    if caller.scope != "write":
        raise ApiError(403, "this API key is read-only", code="insufficient_scope")
    return caller


WriteCaller = Annotated[Principal, Depends(require_write)]
