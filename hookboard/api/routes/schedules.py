"""/schedules: create, list, read, edit, delete, pause, resume, trigger, stats, preview.

Another user's schedule answers 404 exactly as a missing one, on every route.
Every change to a schedule's timing or status wakes the tickers through Redis.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from hookboard import services as service
from hookboard.api.common import Cursor, IdempotencyKey, Limit, idempotent, service_config, utcnow
from hookboard.api.deps import Caller, SessionDep, WriteCaller
from hookboard.api.errors import not_found
from hookboard.api.schemas.schedules import (
    PreviewRequest,
    PreviewResponse,
    ScheduleCreate,
    SchedulePage,
    SchedulePublic,
    ScheduleStatusName,
    ScheduleUpdate,
    TriggerResponse,
)
from hookboard.api.schemas.stats import ScheduleStatsOut
from hookboard.core.redis_client import get_redis
from hookboard.engine.queueing import delivery_queue
from hookboard.engine.wake import wake
from hookboard.services import run_actions
from hookboard.settings import get_settings

router = APIRouter(prefix="/schedules", tags=["schedules"])

STATS_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


def _public(session, schedule) -> SchedulePublic:
    last = service.last_runs(session, [schedule.id]).get(schedule.id)
    return SchedulePublic.of(schedule, last)


@router.post("/preview", response_model=PreviewResponse)
def preview(body: PreviewRequest, caller: Caller) -> PreviewResponse:
    """Words for a timing and its next firings after max(starts_at, now), without saving."""
    result = service.preview_schedule(body.timing_fields(), now=utcnow(), count=body.count)
    zone = ZoneInfo(body.timezone)
    return PreviewResponse(
        description=result.description,
        timezone=body.timezone,
        next=[instant.astimezone(zone) for instant in result.next],
    )


@router.post("", status_code=201, response_model=SchedulePublic)
def create_schedule(
    body: ScheduleCreate,
    session: SessionDep,
    caller: WriteCaller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """A new schedule; its first firing is planned from now (or `starts_at`)."""

    def produce() -> tuple[int, Any]:
        schedule = service.create_schedule(
            session,
            access=caller,
            fields=body.to_fields(),
            now=utcnow(),
            config=service_config(),
            paused=body.paused,
        )
        session.commit()
        wake()
        return 201, SchedulePublic.of(schedule, None).model_dump(mode="json")

    return idempotent(
        caller=caller,
        key=idempotency_key,
        request=request,
        payload=lambda: body.model_dump(mode="json"),
        produce=produce,
    )


@router.get("", response_model=SchedulePage)
def list_schedules(
    session: SessionDep,
    caller: Caller,
    status: ScheduleStatusName | None = None,
    limit: Limit = service.DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> SchedulePage:
    """Oldest first; follow `next_cursor` until it is null."""
    page = service.list_schedules(
        session, workspace_id=caller.workspace_id, status=status, limit=limit, cursor=cursor
    )
    last = service.last_runs(session, [schedule.id for schedule in page.items])
    return SchedulePage(
        items=[SchedulePublic.of(s, last.get(s.id)) for s in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{schedule_id}", response_model=SchedulePublic)
def get_schedule(schedule_id: int, session: SessionDep, caller: Caller) -> SchedulePublic:
    schedule = service.get_schedule(
        session, workspace_id=caller.workspace_id, schedule_id=schedule_id
    )
    return _public(session, schedule)


@router.patch("/{schedule_id}", response_model=SchedulePublic)
def update_schedule(
    schedule_id: int, body: ScheduleUpdate, session: SessionDep, caller: WriteCaller
) -> SchedulePublic:
    """Change only the fields given; next_run_at is recomputed when the timing changes."""
    schedule = service.update_schedule(
        session,
        access=caller,
        schedule_id=schedule_id,
        changes=body.to_changes(),
        now=utcnow(),
        config=service_config(),
    )
    session.commit()
    wake()
    return _public(session, schedule)


@router.delete("/{schedule_id}", status_code=204, response_class=Response)
def delete_schedule(schedule_id: int, session: SessionDep, caller: WriteCaller) -> None:
    """The schedule and its runs and attempts."""
    service.delete_schedule(session, access=caller, schedule_id=schedule_id)
    session.commit()
    wake()


@router.post("/{schedule_id}/pause", response_model=SchedulePublic)
def pause_schedule(schedule_id: int, session: SessionDep, caller: WriteCaller) -> SchedulePublic:
    schedule = service.pause_schedule(session, access=caller, schedule_id=schedule_id, now=utcnow())
    session.commit()
    wake()
    return _public(session, schedule)


@router.post("/{schedule_id}/resume", response_model=SchedulePublic)
def resume_schedule(schedule_id: int, session: SessionDep, caller: WriteCaller) -> SchedulePublic:
    """Active again; the next firing is computed from now (missed ones are not made up)."""
    schedule = service.resume_schedule(
        session, access=caller, schedule_id=schedule_id, now=utcnow()
    )
    session.commit()
    wake()
    return _public(session, schedule)


@router.post("/{schedule_id}/trigger", status_code=202, response_model=TriggerResponse)
def trigger_schedule(
    schedule_id: int,
    session: SessionDep,
    caller: WriteCaller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Run now, whatever the schedule's status: one run, delivered like any other."""
    service.get_schedule(session, workspace_id=caller.workspace_id, schedule_id=schedule_id)
    # End this transaction first: on SQLite it holds the write lock the trigger needs.
    session.commit()
    settings = get_settings()

    def produce() -> tuple[int, Any]:
        try:
            run_id = run_actions.trigger_now(
                session.get_bind(),
                delivery_queue(get_redis(), settings.queue_name),
                access=caller,
                schedule_id=schedule_id,
                lease_grace=timedelta(seconds=settings.lease_grace_seconds),
            )
        except run_actions.GoneError:
            raise not_found("schedule") from None
        return 202, {"run_id": run_id}

    return idempotent(
        caller=caller,
        key=idempotency_key,
        request=request,
        payload=lambda: {"schedule_id": schedule_id},
        produce=produce,
    )


@router.get("/{schedule_id}/stats", response_model=ScheduleStatsOut)
def schedule_stats(
    schedule_id: int,
    session: SessionDep,
    caller: Caller,
    window: Literal["24h", "7d"] = "24h",
) -> ScheduleStatsOut:
    """Runs of the window by outcome, success rate, latency and fire-lag percentiles."""
    stats = service.schedule_stats(
        session,
        workspace_id=caller.workspace_id,
        schedule_id=schedule_id,
        window=STATS_WINDOWS[window],
        now=utcnow(),
    )
    return ScheduleStatsOut(
        schedule_id=stats.schedule_id,
        window=window,
        since=stats.since,
        until=stats.until,
        runs=stats.runs,
        success_rate=stats.success_rate,
        latency_ms=stats.latency_ms,
        fire_lag_ms=stats.fire_lag_ms,
        sample_size=stats.sample_size,
    )
