"""Shared route dependencies: the database session and who is calling.

    def route(session: SessionDep, caller: Caller): ...          # reads (any member)
    def route(session: SessionDep, caller: WriteCaller): ...     # an editor's change

A bearer token is either a dashboard/API session (`hbs_...`) or an API key
(`hbk_...`). Anything else is a 401. A session acts in its user's personal
workspace, or in the one the `Hookboard-Workspace` header names (404 if the
user is not a member); a key acts in its own workspace, as a viewer ("read"
scope) or an editor ("write"). Each route names the action it takes
(`allowed(Action.x)`), and the service's permission table answers: a role
without the right is a 403 `forbidden` naming the role needed.

Every authenticated request counts against two per-minute limits in Redis, its
key or session's (RATE_LIMIT_PER_MINUTE) and its workspace's
(USER_RATE_LIMIT_PER_MINUTE); the answer carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time) of the tighter
one, and past it a 429 `rate_limited` with `Retry-After`. Without Redis,
requests go unlimited (see hookboard.services.ratelimit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
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
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

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


def _unauthorized(message: str = "missing or invalid bearer token") -> ApiError:
    return ApiError(401, message, headers=UNAUTHORIZED_HEADERS)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized()
    return token.strip()


def get_access(
    request: Request,
    response: Response,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
    # Typed `str`, not `str | None`: the schema shows an optional string (a
    # header is never JSON null); absent, the default None stands.
    hookboard_workspace: Annotated[
        str,  # noqa: RUF013 (deliberately not Optional in the schema)
        Header(
            alias=credentials.WORKSPACE_HEADER,
            pattern=credentials.WORKSPACE_HEADER_PATTERN,
            description="The id of one of your workspaces to act in (default: your personal one).",
        ),
    ] = None,  # type: ignore[assignment]
) -> Access:
    """Who calls, in which workspace and with which role; 401 without a valid token."""
    token = bearer_token(authorization)
    requested = credentials.requested_workspace(hookboard_workspace)
    now = datetime.now(UTC)
    # A read request looks its token up on its own read connection: one pool
    # checkout (and ping) per request instead of two.
    reader = session.connection() if request.method in SAFE_METHODS else None
    if token.startswith(SESSION_PREFIX):
        access = _session_access(token, requested, now, reader)
    elif token.startswith(API_KEY_PREFIX):
        access = _api_key_access(token, requested, now, reader)
    else:
        raise _unauthorized()
    client_ip = request.client.host if request.client else None
    access = replace(access, client_ip=client_ip, user_agent=request.headers.get("user-agent"))
    headers = enforce_rate_limit(access)
    response.headers.update(headers)
    # For error handlers: a route's own errors are new responses, without them.
    request.state.rate_limit_headers = headers
    return access


def enforce_rate_limit(access: Access) -> dict[str, str]:
    """Count the request (the service's rule); its X-RateLimit-* headers, or a 429."""
    credential = credential_of(api_key_id=access.api_key_id, session_id=access.session_id)
    try:
        return count_request(workspace_id=access.workspace_id, credential=credential)
    except RateLimited as error:
        raise ApiError(429, str(error), code="rate_limited", headers=error.headers) from None


# A write request's token lookup uses its own short read, not the route's
# session: that may hold SQLite's write lock, which _touch_api_key would wait on.
def _lookup(find, token: str, reader: Connection | None):
    if reader is not None:
        return find(reader, token)
    with get_read_engine().connect() as connection:
        return find(connection, token)


def _session_access(
    token: str, requested: int | None, now: datetime, reader: Connection | None
) -> Access:
    found = _lookup(
        lambda connection, t: credentials.find_session(connection, t, requested), token, reader
    )
    if found is None:
        raise _unauthorized()
    if not credentials.session_is_live(found, now):
        raise _unauthorized("session expired or revoked")
    credentials.touch_session(get_engine(), found, now)
    return credentials.session_access(found)


def _api_key_access(
    token: str, requested: int | None, now: datetime, reader: Connection | None
) -> Access:
    found = _lookup(credentials.find_api_key, token, reader)
    if found is None:
        raise _unauthorized()
    if found.revoked_at is not None:
        raise _unauthorized("API key revoked")
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
        _touch_api_key(found.id, now)
    return credentials.key_access(found, requested)


def _touch_api_key(key_id: int, now: datetime) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def allowed(action: Action):
    """The dependency of a route that takes `action`: the permission table decides."""

    def check(access: Annotated[Access, Depends(get_access)]) -> Access:
        permissions.check(access, action)
        return access

    check.action = action  # read by the route-table test: every route names its action
    return check


Caller = Annotated[Access, Depends(allowed(Action.read))]
WriteCaller = Annotated[Access, Depends(allowed(Action.write))]
AdminCaller = Annotated[Access, Depends(allowed(Action.manage))]
SecretReader = Annotated[Access, Depends(allowed(Action.read_secret))]
OwnerCaller = Annotated[Access, Depends(allowed(Action.own))]
# A person's own account (password, 2FA, sessions, workspaces): a session, never a key.
PersonCaller = Annotated[Access, Depends(allowed(Action.account))]
