"""Pause, resume, run now and delete, exactly as the API's routes do them. No Reflex.

Each returns a short message for a toast, or raises a schedule_service error.
"""

from __future__ import annotations

from hookboard import services as service
from hookboard.domain.firing import spec_for
from hookboard.domain.schedules import ScheduleSpecError, describe
from hookboard.models import Schedule
from hookboard.services import run_actions
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import services


def describe_schedule(schedule: Schedule) -> str:
    """'At 02:00, every day, Europe/Berlin'; the raw fields if they no longer describe."""
    try:
        return describe(spec_for(schedule))
    except (ScheduleSpecError, ValueError, OverflowError):
        return f"{schedule.kind} {schedule.cron or ''} {schedule.timezone}".strip()


def pause(access: Access, schedule_id: int) -> str:
    with services.db() as session:
        schedule = service.pause_schedule(
            session, access=access, schedule_id=schedule_id, now=services.now()
        )
        session.commit()
    services.wake()
    return f"Paused {schedule.name}"


def resume(access: Access, schedule_id: int) -> str:
    with services.db() as session:
        schedule = service.resume_schedule(
            session, access=access, schedule_id=schedule_id, now=services.now()
        )
        session.commit()
    services.wake()
    return f"Resumed {schedule.name}"


def run_now(access: Access, schedule_id: int) -> int:
    with services.db() as session:
        service.get_schedule(session, workspace_id=access.workspace_id, schedule_id=schedule_id)
    try:
        return run_actions.trigger_now(
            services.engine(),
            services.queue(),
            access=access,
            schedule_id=schedule_id,
            lease_grace=services.lease_grace(),
        )
    except run_actions.GoneError:
        raise service.NotFound("schedule") from None


def delete(access: Access, schedule_id: int) -> str:
    with services.db() as session:
        schedule = service.get_schedule(
            session, workspace_id=access.workspace_id, schedule_id=schedule_id
        )
        name = schedule.name
        service.delete_schedule(session, access=access, schedule_id=schedule_id)
        session.commit()
    services.wake()
    return f"Deleted {name}"


def error_message(error: service.ServiceError) -> str:
    if isinstance(error, service.InvalidInput | service.Conflict):
        return error.message if not getattr(error, "field", None) else str(error)
    return str(error)
