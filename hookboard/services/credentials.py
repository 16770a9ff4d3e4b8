"""Who a bearer token belongs to: the lookups the API and the dashboard share.

Each is one indexed Core select by the token's hash (no ORM objects: this runs
on every request), built once at import: a statement object memoises its cache
key, so a request skips building and keying it. A user who is no longer active
holds no live session; a deleted workspace's keys act no more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Row, and_, bindparam, or_, select, update

from hookboard.domain.tokens import hash_token
from hookboard.models import ApiKey, AuthSession, Membership, User, Workspace
from hookboard.services.errors import InvalidInput, NotFound
from hookboard.services.workspaces.permissions import ROLE_OF_SCOPE, Access, Role


def _session_in(workspace):
    """A session's row, with the member's role in `workspace` (NULL if not a member)."""
    return (
        select(
            AuthSession.id,
            AuthSession.user_id,
            User.email,
            AuthSession.revoked_at,
            AuthSession.expires_at,
            AuthSession.last_used_at,
            Membership.workspace_id,
            Membership.role,
        )
        .join(User, User.id == AuthSession.user_id)
        .outerjoin(Workspace, and_(workspace, Workspace.deleted_at.is_(None)))
        .outerjoin(
            Membership,
            and_(
                Membership.workspace_id == Workspace.id, Membership.user_id == AuthSession.user_id
            ),
        )
        .where(AuthSession.token_hash == bindparam("token_hash"), User.is_active)
    )


# A session acts in its user's personal workspace, or in one the request names.
_FIND_SESSION = _session_in(Workspace.personal_for_user_id == AuthSession.user_id)
_FIND_SESSION_IN = _session_in(Workspace.id == bindparam("workspace_id"))

# A key acts in its own workspace, while that lives.
_FIND_API_KEY = (
    select(
        ApiKey.id,
        ApiKey.workspace_id,
        ApiKey.scope,
        ApiKey.revoked_at,
        ApiKey.last_used_at,
        ApiKey.created_by_user_id,
    )
    .join(Workspace, Workspace.id == ApiKey.workspace_id)
    .where(ApiKey.key_hash == bindparam("token_hash"), Workspace.deleted_at.is_(None))
)


# last_used_at of a session or key is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def find_session(connection: Connection, token: str, workspace_id: int | None = None) -> Row | None:
    """(id, user_id, email, revoked_at, expires_at, last_used_at, workspace_id, role)
    of the token, or None. The role is in `workspace_id` (default: the personal
    workspace); workspace_id and role are None where the user is not a member."""
    if workspace_id is None:
        return connection.execute(_FIND_SESSION, {"token_hash": hash_token(token)}).first()
    params = {"token_hash": hash_token(token), "workspace_id": workspace_id}
    return connection.execute(_FIND_SESSION_IN, params).first()


def session_is_live(found: Row, now: datetime) -> bool:
    return found.revoked_at is None and found.expires_at > now


def find_api_key(connection: Connection, token: str) -> Row | None:
    """(id, workspace_id, scope, revoked_at, last_used_at, created_by_user_id) of
    the API key, or None (also once its workspace is deleted)."""
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


# The request header that names the workspace a session acts in.
WORKSPACE_HEADER = "Hookboard-Workspace"
MAX_WORKSPACE_ID = 2**63 - 1
# What the API's schema admits (18 digits stay below MAX_WORKSPACE_ID).
WORKSPACE_HEADER_PATTERN = r"^[0-9]{1,18}$"


def requested_workspace(value: str | None) -> int | None:
    """The workspace id a request names (None: the caller's default one)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > MAX_WORKSPACE_ID:
        raise InvalidInput(WORKSPACE_HEADER, "must be the id of one of your workspaces")
    return int(text)


def session_access(found: Row) -> Access:
    """The session's access in the workspace looked up; NotFound if not a member."""
    if found.workspace_id is None:
        raise NotFound("workspace")
    return Access(
        user_id=found.user_id,
        workspace_id=found.workspace_id,
        role=Role(found.role),
        session_id=found.id,
        email=found.email,
    )


def key_access(found: Row, requested: int | None) -> Access:
    """A key acts in its own workspace only: naming another is NotFound."""
    if requested is not None and requested != found.workspace_id:
        raise NotFound("workspace")
    return Access(
        user_id=found.created_by_user_id,
        workspace_id=found.workspace_id,
        role=ROLE_OF_SCOPE[found.scope],
        api_key_id=found.id,
    )


def member_access(
    connection: Connection, *, user_id: int, workspace_id: int | None = None
) -> Access:
    """A user's access in one of their workspaces (default: the personal one), as
    the CLI acts; NotFound where they are not a member."""
    workspace = (
        Workspace.personal_for_user_id == user_id
        if workspace_id is None
        else Workspace.id == workspace_id
    )
    found = connection.execute(
        select(Membership.workspace_id, Membership.role, User.email)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .join(User, User.id == Membership.user_id)
        .where(workspace, Workspace.deleted_at.is_(None), Membership.user_id == user_id)
    ).first()
    if found is None:
        raise NotFound("workspace")
    return Access(
        user_id=user_id, workspace_id=found.workspace_id, role=Role(found.role), email=found.email
    )
