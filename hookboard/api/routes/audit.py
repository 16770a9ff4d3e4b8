"""/audit-events: who changed what in the workspace, newest first (owners and admins).

Filters: actor (`actor_type` + `actor_id`, or `actor_email`), `action` (exact,
or a prefix ending in "." such as `schedule.`), object (`object_type`,
`object_id`), and `since` (inclusive) / `until` (exclusive), aware date-times.
`/export` streams every match as JSON lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator
from sqlmodel import Session

from hookboard import services as service
from hookboard.api.common import Cursor, Limit
from hookboard.api.deps import AdminCaller, SessionDep
from hookboard.api.schemas.audit import AuditEventPage
from hookboard.api.schemas.common import iso_instant
from hookboard.core.db import get_read_engine
from hookboard.services import audit
from hookboard.services.audit import AuditFilters

router = APIRouter(prefix="/audit-events", tags=["audit log"])

Instant = Annotated[
    datetime | None,
    BeforeValidator(iso_instant),
    Query(description="ISO 8601 with an offset, e.g. 2026-01-31T12:00:00Z."),
]
ActorType = Annotated[
    Literal["user", "api_key", "system"] | None,
    Query(description="Who acted: a person, a key, the engine."),
]


def filters(
    actor_type: ActorType = None,
    actor_id: Annotated[int | None, Query(ge=1, le=service.MAX_ID)] = None,
    actor_email: Annotated[str | None, Query(min_length=1, max_length=320)] = None,
    action: Annotated[
        str | None,
        Query(min_length=1, max_length=48, description='Exact, or a prefix ending in "."'),
    ] = None,
    object_type: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    object_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    since: Instant = None,
    until: Instant = None,
) -> AuditFilters:
    return AuditFilters(
        actor_type=actor_type,
        actor_id=actor_id,
        actor_email=actor_email,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )


Filters = Annotated[AuditFilters, Depends(filters)]


@router.get("", response_model=AuditEventPage)
def list_audit_events(
    session: SessionDep,
    caller: AdminCaller,
    chosen: Filters,
    limit: Limit = service.DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> AuditEventPage:
    """Newest first, a keyset page at a time (`next_cursor`)."""
    page = audit.list_events(session, access=caller, filters=chosen, limit=limit, cursor=cursor)
    return AuditEventPage.model_validate(
        {"items": [audit.event_json(e) for e in page.items], "next_cursor": page.next_cursor}
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_audit_events(caller: AdminCaller, chosen: Filters) -> StreamingResponse:
    """Every matching event, newest first, one JSON object per line."""
    # Its own session: the stream outlives the request's dependencies.
    session = Session(get_read_engine())
    try:
        lines = audit.export_lines(session, access=caller, filters=chosen)
    except BaseException:
        session.close()
        raise
    return StreamingResponse(_closing(lines, session), media_type="application/x-ndjson")


def _closing(lines: Iterator[str], session: Session) -> Iterator[str]:
    try:
        yield from lines
    finally:
        session.close()
