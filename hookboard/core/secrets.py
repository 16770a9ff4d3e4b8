"""The one query for a workspace's live signing secrets: newest first, a rotated
secret included until it expires, so that both sign during the grace period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, or_, select
from sqlmodel import Session

from hookboard.models import SigningSecret

secrets_table = SigningSecret.__table__

_LIVE = or_(secrets_table.c.expires_at.is_(None), secrets_table.c.expires_at > bindparam("now"))
_NEWEST_FIRST = (secrets_table.c.created_at.desc(), secrets_table.c.id.desc())

# Built once: the engine runs it for every claimed batch.
LIVE_SECRETS_OF_WORKSPACES = (
    select(secrets_table.c.workspace_id, secrets_table.c.secret)
    .where(secrets_table.c.workspace_id.in_(bindparam("workspace_ids", expanding=True)), _LIVE)
    .order_by(*_NEWEST_FIRST)
)
LIVE_SECRET_ROWS = (
    select(SigningSecret)
    .where(secrets_table.c.workspace_id == bindparam("workspace_id"), _LIVE)
    .order_by(*_NEWEST_FIRST)
)


def live_secrets_by_workspace(
    connection: Connection, workspace_ids: set[int], now: datetime
) -> dict[int, list[str]]:
    """Each workspace's live secret values, newest first (those without one are absent)."""
    rows = connection.execute(
        LIVE_SECRETS_OF_WORKSPACES, {"workspace_ids": sorted(workspace_ids), "now": now}
    )
    found: dict[int, list[str]] = {}
    for workspace_id, secret in rows:
        found.setdefault(workspace_id, []).append(secret)
    return found


def live_secret_rows(session: Session, workspace_id: int, now: datetime) -> list[SigningSecret]:
    """The workspace's live secrets as rows, newest first (for display and rotation)."""
    return list(session.scalars(LIVE_SECRET_ROWS, {"workspace_id": workspace_id, "now": now}))


def live_secrets(session: Session, workspace_id: int, now: datetime) -> list[str]:
    """The user's live secret values, newest first (what a delivery signs with)."""
    return [row.secret for row in live_secret_rows(session, workspace_id, now)]
