"""Reading the audit log: filtered keyset pages, newest first, and a JSON-lines export.

Both walk the (workspace_id, id) index downwards; owners and admins only
(Action.manage). Every filter is checked and bounded here, naming its field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from hookboard.core.audit_rows import ACTOR_TYPES
from hookboard.models import AuditEvent
from hookboard.services.errors import InvalidInput
from hookboard.services.fields import check_text
from hookboard.services.pagination import Page, decode_cursor, make_page, page_size, valid_id
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

CURSOR_KIND = "a"
EXPORT_BATCH = 500
MAX_EMAIL_CHARS = 320
# Dotted lower-case names ("schedule.pause"); a trailing "." asks for a prefix.
_ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)*\.?$")
_MAX_LENGTHS = {"action": 48, "object_type": 32, "object_id": 64}


@dataclass(frozen=True)
class AuditFilters:
    actor_type: str | None = None
    actor_id: int | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("schedule.")
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    actor_email: str | None = None


def list_events(
    session: Session,
    *,
    access: Access,
    filters: AuditFilters,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[AuditEvent]:
    """One page, newest first."""
    permissions.check(access, Action.manage)
    size = page_size(limit)
    before = decode_cursor(CURSOR_KIND, cursor)
    query = _filtered(access.workspace_id, filters)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = session.exec(query.order_by(AuditEvent.id.desc()).limit(size + 1)).all()
    return make_page(rows, size, CURSOR_KIND)


def export_lines(session: Session, *, access: Access, filters: AuditFilters) -> Iterator[str]:
    """Every matching event as one JSON line each, newest first. The checks run
    now; the rows are read later, EXPORT_BATCH at a time, each batch its own
    short read (memory stays bounded however long the log)."""
    permissions.check(access, Action.manage)
    query = _filtered(access.workspace_id, filters)
    return _lines(session, query)


def _lines(session: Session, query) -> Iterator[str]:
    before = None
    while True:
        batch = query if before is None else query.where(AuditEvent.id < before)
        rows = session.exec(batch.order_by(AuditEvent.id.desc()).limit(EXPORT_BATCH)).all()
        lines = [json.dumps(event_json(row), separators=(",", ":")) + "\n" for row in rows]
        before = rows[-1].id if rows else None
        session.rollback()  # no read transaction held while the client reads
        yield from lines
        if len(rows) < EXPORT_BATCH:
            return


def event_json(event: AuditEvent) -> dict[str, Any]:
    """The API's item: who, what, which object, the masked changes, from where."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": {"type": event.actor_type, "id": event.actor_id, "email": event.actor_email},
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "ip": event.ip,
        "user_agent": event.user_agent,
    }


def _filtered(workspace_id: int, filters: AuditFilters):
    query = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    for condition in _conditions(filters):
        query = query.where(condition)
    return query


def _conditions(filters: AuditFilters) -> list:
    found = []
    if filters.actor_type is not None:
        if filters.actor_type not in ACTOR_TYPES:
            raise InvalidInput("actor_type", f"must be one of {', '.join(ACTOR_TYPES)}")
        found.append(AuditEvent.actor_type == filters.actor_type)
    if filters.actor_id is not None:
        if not valid_id(filters.actor_id):
            raise InvalidInput("actor_id", "must be a positive id")
        if filters.actor_type is None:
            raise InvalidInput("actor_type", "is needed with actor_id (user or api_key)")
        found.append(AuditEvent.actor_id == filters.actor_id)
    if filters.actor_email is not None:
        email = check_text(filters.actor_email, "actor_email").strip().lower()
        if not email or len(email) > MAX_EMAIL_CHARS:
            raise InvalidInput("actor_email", f"must be an email of at most {MAX_EMAIL_CHARS}")
        found.append(func.lower(AuditEvent.actor_email) == email)
    for name, value in (
        ("action", filters.action),
        ("object_type", filters.object_type),
        ("object_id", filters.object_id),
    ):
        if value is not None and not 0 < len(check_text(value, name)) <= _MAX_LENGTHS[name]:
            raise InvalidInput(name, f"must be 1 to {_MAX_LENGTHS[name]} characters")
    if filters.action is not None:
        found.append(_action_condition(filters.action))
    if filters.object_type is not None:
        found.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        found.append(AuditEvent.object_id == filters.object_id)
    found += _date_conditions(filters.since, filters.until)
    return found


def _action_condition(action: str):
    if not _ACTION.match(action):
        raise InvalidInput("action", 'must be a dotted name like "schedule.pause" or "schedule."')
    if action.endswith("."):
        # LIKE would read "_" as a wildcard: compare the prefix itself.
        return func.substr(AuditEvent.action, 1, len(action)) == action
    return AuditEvent.action == action


def _date_conditions(since: datetime | None, until: datetime | None) -> list:
    since, until = _utc(since, "since"), _utc(until, "until")
    if since is not None and until is not None and since > until:
        raise InvalidInput("since", "must not be after until")
    found = []
    if since is not None:
        found.append(AuditEvent.at >= since)
    if until is not None:
        found.append(AuditEvent.at < until)
    return found


def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must carry a timezone, like 2026-01-31T12:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "is out of range") from None
