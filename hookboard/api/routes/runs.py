"""/runs: the delivery log, newest first, and replaying a failed run.

Pagination is keyset on id (newest first) through an opaque cursor, so a page
a million rows deep is as fast as the first. Another user's run answers 404
exactly as a missing one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator

from hookboard import services as service
from hookboard.api.common import Cursor, Limit
from hookboard.api.deps import Caller, SessionDep, WriteCaller
from hookboard.api.errors import ApiError, not_found
from hookboard.api.model_response import model_response
from hookboard.api.schemas.common import iso_instant
from hookboard.api.schemas.runs import (
    AttemptPublic,
    ReplayResponse,
    RunDetail,
    RunPage,
    RunPublic,
    RunStatusName,
)
from hookboard.core.redis_client import get_redis
from hookboard.engine.queueing import delivery_queue
from hookboard.models import RunStatus
from hookboard.services import crud, run_actions
from hookboard.settings import get_settings

log = logging.getLogger("hookboard.api")

router = APIRouter(prefix="/runs", tags=["runs"])

Instant = Annotated[
    datetime | None,
    BeforeValidator(iso_instant),
    Query(description="ISO 8601; without an offset it is read as UTC. Bounds scheduled_for."),
]


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ApiError(422, "date-time out of range", field=field) from None


@router.get("", response_model=RunPage)
def list_runs(
    request: Request,
    session: SessionDep,
    caller: Caller,
    schedule_id: Annotated[int | None, Query()] = None,
    status: RunStatusName | None = None,
    since: Instant = None,
    until: Instant = None,
    limit: Limit = service.DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Response:
    """Newest first; `since`/`until` bound the instant each run was scheduled for."""
    page = service.list_runs(
        session,
        workspace_id=caller.workspace_id,
        schedule_id=schedule_id,
        status=status,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
        limit=limit,
        cursor=cursor,
    )
    # Validated from plain dicts (pydantic-core's fast path), serialised once;
    # zip builds them 4x faster than Row._asdict (and Row._fields is not free).
    names = page.items[0]._fields if page.items else ()
    items = [dict(zip(names, row, strict=True)) for row in page.items]
    return model_response(
        request, RunPage.model_validate({"items": items, "next_cursor": page.next_cursor})
    )


@router.get("/{run_id}", response_model=RunDetail)
def get_run(run_id: int, session: SessionDep, caller: Caller) -> RunDetail:
    """The run with every attempt: what was sent (secrets masked) and what came back."""
    run = service.get_run(session, workspace_id=caller.workspace_id, run_id=run_id)
    attempts = service.run_attempts(session, run=run)
    return RunDetail(
        **RunPublic.of(run).model_dump(), attempts=[AttemptPublic.of(a) for a in attempts]
    )


@router.post("/{run_id}/replay", status_code=202, response_model=ReplayResponse)
def replay_run(run_id: int, session: SessionDep, caller: WriteCaller) -> ReplayResponse:
    """One more attempt for a failed run (same run, same webhook-id); 409 otherwise."""
    run = service.get_run(session, workspace_id=caller.workspace_id, run_id=run_id)
    if run.status != RunStatus.failed:
        raise _not_replayable(run.status)
    # End this transaction first: on SQLite it holds the write lock the replay needs.
    session.commit()
    settings = get_settings()
    try:
        run_actions.replay(
            session.get_bind(),
            delivery_queue(get_redis(), settings.queue_name),
            access=caller,
            run_id=run_id,
            lease_grace=timedelta(seconds=settings.lease_grace_seconds),
        )
    except crud.NotReplayableError:
        session.refresh(run)
        raise _not_replayable(run.status) from None
    except run_actions.GoneError:
        raise not_found("run") from None
    return ReplayResponse(run_id=run_id)


def _not_replayable(status: str) -> ApiError:
    return ApiError(
        409, f"only a failed run can be replayed (this one is {status})", code="not_replayable"
    )
