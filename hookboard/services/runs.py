"""Runs and their attempts, one or a filtered page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam
from sqlmodel import Session, select

from hookboard.models import (
    Attempt,
    Run,
    RunStatus,
    Schedule,
)
from hookboard.services.errors import InvalidInput, NotFound
from hookboard.services.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    make_page,
    page_size,
    valid_id,
)


def get_run(session: Session, *, workspace_id: int, run_id: int) -> Run:
    if not valid_id(run_id):
        raise NotFound("run")
    run = session.exec(
        select(Run).where(Run.id == run_id, Run.workspace_id == workspace_id)
    ).first()
    if run is None:
        raise NotFound("run")
    return run


def run_attempts(session: Session, *, run: Run) -> list[Attempt]:
    return list(
        session.exec(select(Attempt).where(Attempt.run_id == run.id).order_by(Attempt.number))
    )


def runs_query(
    *,
    workspace_id: int | None,
    schedule_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> tuple[Select, dict[str, Any]]:
    """One page of runs, newest first, as (statement, its parameters):
    `workspace_id = ? ... AND id < ? ORDER BY id DESC LIMIT ?` walks the (workspace_id, id) index
    backwards and stops after `limit` rows: no OFFSET, however deep the page. With a
    schedule (whose owner the caller checked) `workspace_id` is None and the query is on
    `schedule_id`, so it can only walk the (schedule_id, id) index."""
    if workspace_id is None and schedule_id is None:
        raise ValueError("runs_query needs workspace_id or schedule_id")
    values = {
        "workspace_id": workspace_id,
        "schedule_id": schedule_id,
        "status": status,
        "since": since.astimezone(UTC) if since is not None else None,
        "until": until.astimezone(UTC) if until is not None else None,
        "before_id": before_id,
    }
    params = {name: value for name, value in values.items() if value is not None}
    return _runs_statement(frozenset(params)), {**params, "limit": limit}


# The log's hottest query. One statement per combination of filters, built once:
# a new one per request cost more CPU to build and key for the compiled cache
# than running it did.
_RUNS_FILTERS = {
    "workspace_id": lambda value: Run.workspace_id == value,
    "schedule_id": lambda value: Run.schedule_id == value,
    "status": lambda value: Run.status == value,
    "since": lambda value: Run.scheduled_for >= value,
    "until": lambda value: Run.scheduled_for <= value,
    "before_id": lambda value: Run.id < value,
}


@lru_cache(maxsize=2 ** len(_RUNS_FILTERS))  # every combination
def _runs_statement(filters: frozenset[str]) -> Select:
    # Plain rows, not ORM objects: a read-only page costs 40% less to load.
    query = select(*Run.__table__.columns)
    for name, condition in _RUNS_FILTERS.items():
        if name in filters:
            query = query.where(condition(bindparam(name)))
    return query.order_by(Run.id.desc()).limit(bindparam("limit", type_=Integer))


def list_runs(
    session: Session,
    *,
    workspace_id: int,
    schedule_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Row]:
    """Newest first, keyset on id; `since`/`until` bound scheduled_for (inclusive).
    The items are read-only rows with the Run columns as attributes."""
    size = page_size(limit)
    before = decode_cursor("r", cursor)
    if status is not None and status not in tuple(RunStatus):
        raise InvalidInput("status", f"must be one of {', '.join(RunStatus)}")
    if schedule_id is not None:
        owned = (
            valid_id(schedule_id)
            and session.exec(
                select(Schedule.id).where(
                    Schedule.id == schedule_id, Schedule.workspace_id == workspace_id
                )
            ).first()
        )
        if not owned:
            return Page([], None)  # another user's schedule lists like one without runs
    query, params = runs_query(
        workspace_id=None if schedule_id is not None else workspace_id,
        schedule_id=schedule_id,
        status=status,
        since=since,
        until=until,
        before_id=before,
        limit=size + 1,
    )
    return make_page(session.exec(query, params=params).all(), size, "r")
