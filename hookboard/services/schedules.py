"""Schedules: create, edit, pause, resume, delete and list them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func
from sqlmodel import Session, select

from hookboard.domain.firing import first_run_at, spec_for
from hookboard.domain.schedules import (
    ScheduleSpecError,
    validate,
)
from hookboard.models import (
    Run,
    Schedule,
    ScheduleStatus,
    Target,
)
from hookboard.services import audit
from hookboard.services.badge import new_badge_token
from hookboard.services.config import ServiceConfig
from hookboard.services.errors import Conflict, InvalidInput, NotFound
from hookboard.services.fields import (
    DEFAULT_METHOD,
    api_field,
    check_request_fields,
)
from hookboard.services.masking import unmask_headers, unmask_url
from hookboard.services.pagination import Page, decode_cursor, make_page, page_size, valid_id
from hookboard.services.schedule_rules import (
    TIMING_FIELDS,
    check_kind_fields,
    check_schedule_scalars,
    plan_next_run,
)
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action


def get_schedule(
    session: Session, *, workspace_id: int, schedule_id: int, for_update: bool = False
) -> Schedule:
    if not valid_id(schedule_id):
        raise NotFound("schedule")
    query = select(Schedule).where(
        Schedule.id == schedule_id, Schedule.workspace_id == workspace_id
    )
    if for_update:
        query = query.with_for_update()
    schedule = session.exec(query).first()
    if schedule is None:
        raise NotFound("schedule")
    return schedule


def _owned_target(session: Session, workspace_id: int, target_id: Any) -> Target:
    target = None
    if valid_id(target_id):
        target = session.exec(
            select(Target).where(Target.id == target_id, Target.workspace_id == workspace_id)
        ).first()
    if target is None:
        raise InvalidInput("target_id", f"target {target_id} not found")
    return target


# Built once: a statement object memoises its cache key, so each create skips rebuilding it.
_COUNT_SCHEDULES = (
    select(func.count())
    .select_from(Schedule)
    .where(Schedule.workspace_id == bindparam("workspace_id"))
)


TargetCheck = Callable[[Any], None]  # raises InvalidInput("target_id") for a target not owned


def new_schedule(
    *,
    workspace_id: int,
    fields: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
    check_target: TargetCheck,
    paused: bool = False,
) -> Schedule:
    """A validated Schedule planned from now, not yet added to a session (nor counted
    against the quota)."""
    fields = {name: value for name, value in fields.items() if value is not None}
    fields.setdefault("headers", {})
    badge = fields.pop("badge", False)
    check_schedule_scalars(fields)
    check_request_fields(fields, config)
    fields["headers"] = unmask_headers(fields["headers"], None, api_field("headers"))
    fields["url"] = unmask_url(fields.get("url"), None, api_field("url"))
    if fields.get("target_id") is not None:
        check_target(fields["target_id"])
    elif not fields.get("url"):
        raise InvalidInput("request.url", "a schedule needs request.url or target_id")
    else:
        fields.setdefault("method", DEFAULT_METHOD)
    fields.setdefault("timeout_seconds", config.default_timeout_seconds)
    if "kind" not in fields:
        raise InvalidInput("kind", "a kind is required")

    # Planned, stamped and flagged before the one flush: a single INSERT, no UPDATE after it.
    schedule = Schedule(workspace_id=workspace_id, **fields)
    check_kind_fields(schedule, fields)
    schedule.anchor_at = schedule.starts_at or now
    schedule.next_run_at = plan_next_run(schedule, now)
    schedule.created_at = schedule.updated_at = now
    _set_badge(schedule, badge)
    if paused:
        schedule.status = ScheduleStatus.paused
        schedule.next_run_at = None
    return schedule


def check_quota(count: int, config: ServiceConfig) -> None:
    """Refuse one more schedule for a workspace that has `count`."""
    if count >= config.max_schedules_per_user:
        raise Conflict(
            f"schedule quota reached: at most {config.max_schedules_per_user} schedules "
            "per workspace (MAX_SCHEDULES_PER_USER); delete some first",
            code="quota_exceeded",
        )


def create_schedule(
    session: Session,
    *,
    access: Access,
    fields: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
    paused: bool = False,
) -> Schedule:
    """A new schedule from storage fields (`url`, `max_attempts`, ...), planned from now."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    schedule = new_schedule(
        workspace_id=workspace_id,
        fields=fields,
        now=now,
        config=config,
        check_target=lambda target_id: _owned_target(session, workspace_id, target_id),
        paused=paused,
    )
    check_quota(session.exec(_COUNT_SCHEDULES, params={"workspace_id": workspace_id}).one(), config)
    session.add(schedule)
    session.flush()
    _record(session, access, "schedule.create", schedule, None, audit.snapshot(schedule))
    return schedule


def _record(
    session: Session,
    access: Access,
    action: str,
    schedule: Schedule,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    changes = audit.diff("schedule", before, after)
    audit.record(
        session,
        access,
        action,
        workspace_id=schedule.workspace_id,
        object_type="schedule",
        object_id=schedule.id,
        changes=changes,
    )


def edit_schedule(
    schedule: Schedule,
    changes: dict[str, Any],
    *,
    now: datetime,
    config: ServiceConfig,
    check_target: TargetCheck,
) -> None:
    """Validate a partial edit (storage field names) and apply it to `schedule`
    (no I/O); replan when the timing changed."""
    changes = dict(changes)
    paused = changes.pop("paused", None)
    badge = changes.pop("badge", None)
    check_schedule_scalars(changes)
    if "headers" in changes:
        changes["headers"] = unmask_headers(
            changes["headers"] or {}, schedule.headers, api_field("headers")
        )
    if changes.get("url") is not None:
        changes["url"] = unmask_url(changes["url"], schedule.url, api_field("url"))
    check_request_fields(changes, config)

    target_id = changes.get("target_id", schedule.target_id)
    if "target_id" in changes and target_id is not None:
        check_target(target_id)
    url = changes.get("url", schedule.url)
    if target_id is None and not url:
        raise InvalidInput("request.url", "a schedule needs request.url or target_id")
    if target_id is None and changes.get("method", schedule.method) is None:
        changes["method"] = DEFAULT_METHOD

    for name, value in changes.items():
        setattr(schedule, name, value)
    timing_changed = any(name in changes for name in TIMING_FIELDS)
    if timing_changed:
        check_kind_fields(schedule, changes)
        if "starts_at" in changes:
            schedule.anchor_at = schedule.starts_at or now
        first = plan_next_run(schedule, now)
        if schedule.status != ScheduleStatus.paused:
            schedule.status = ScheduleStatus.active
            schedule.next_run_at = first
    if paused is True:
        _pause(schedule)
    elif paused is False:
        _resume(schedule, now)
    if badge is not None:
        _set_badge(schedule, badge)
    schedule.updated_at = now


def update_schedule(
    session: Session,
    *,
    access: Access,
    schedule_id: int,
    changes: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
) -> Schedule:
    """Apply a partial edit (storage field names); replan when the timing changed."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    schedule = get_schedule(
        session, workspace_id=workspace_id, schedule_id=schedule_id, for_update=True
    )
    before = audit.snapshot(schedule)
    with session.no_autoflush:  # nothing is written before the whole edit is valid
        edit_schedule(
            schedule,
            changes,
            now=now,
            config=config,
            check_target=lambda target_id: _owned_target(session, workspace_id, target_id),
        )
    session.add(schedule)
    session.flush()
    action = "schedule.update"
    if set(changes) == {"paused"} and before["status"] != schedule.status:
        action = "schedule.pause" if changes["paused"] else "schedule.resume"  # a toggle
    _record(session, access, action, schedule, before, audit.snapshot(schedule))
    return schedule


def _set_badge(schedule: Schedule, enabled: bool) -> None:
    """Opt in or out of the public badge; opting in again issues a new URL."""
    if not enabled:
        schedule.badge_token = None
    elif schedule.badge_token is None:
        schedule.badge_token = new_badge_token()


def _pause(schedule: Schedule) -> None:
    if schedule.status == ScheduleStatus.completed:
        raise Conflict("a completed schedule cannot be paused", field="status")
    schedule.status = ScheduleStatus.paused
    schedule.next_run_at = None


def _resume(schedule: Schedule, now: datetime) -> None:
    if schedule.status == ScheduleStatus.completed:
        raise Conflict("a completed schedule cannot be resumed; edit its timing", field="status")
    if schedule.status == ScheduleStatus.active:
        return
    try:
        validate(spec_for(schedule))
        first = first_run_at(schedule, now)
    except ScheduleSpecError as error:
        raise InvalidInput(api_field(error.field), f"cannot resume: {error.reason}") from None
    schedule.paused_reason = None
    schedule.consecutive_failures = 0  # a fresh count towards auto-pause
    schedule.next_run_at = first
    schedule.status = ScheduleStatus.active if first else ScheduleStatus.completed


def pause_schedule(
    session: Session, *, access: Access, schedule_id: int, now: datetime
) -> Schedule:
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    schedule = get_schedule(
        session, workspace_id=workspace_id, schedule_id=schedule_id, for_update=True
    )
    if schedule.status != ScheduleStatus.paused:
        before = audit.snapshot(schedule)
        _pause(schedule)
        schedule.updated_at = now
        session.add(schedule)
        session.flush()
        _record(session, access, "schedule.pause", schedule, before, audit.snapshot(schedule))
    return schedule


def resume_schedule(
    session: Session, *, access: Access, schedule_id: int, now: datetime
) -> Schedule:
    """Active again, its next firing computed from now (missed firings are not made up)."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    schedule = get_schedule(
        session, workspace_id=workspace_id, schedule_id=schedule_id, for_update=True
    )
    if schedule.status != ScheduleStatus.active:
        before = audit.snapshot(schedule)
        _resume(schedule, now)
        schedule.updated_at = now
        session.add(schedule)
        session.flush()
        _record(session, access, "schedule.resume", schedule, before, audit.snapshot(schedule))
    return schedule


def delete_schedule(session: Session, *, access: Access, schedule_id: int) -> None:
    """Delete the schedule; its runs and attempts go with it (ON DELETE CASCADE)."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    schedule = get_schedule(
        session, workspace_id=workspace_id, schedule_id=schedule_id, for_update=True
    )
    _record(session, access, "schedule.delete", schedule, audit.snapshot(schedule), None)
    session.exec(
        delete(Schedule).where(Schedule.id == schedule_id, Schedule.workspace_id == workspace_id)
    )  # type: ignore[call-overload]
    session.flush()


def list_schedules(
    session: Session,
    *,
    workspace_id: int,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Schedule]:
    """Oldest first, keyset on id."""
    size = page_size(limit)
    after = decode_cursor("s", cursor)
    query = select(Schedule).where(Schedule.workspace_id == workspace_id)
    if status is not None:
        if status not in tuple(ScheduleStatus):
            raise InvalidInput("status", "must be one of active, paused, completed")
        query = query.where(Schedule.status == status)
    if after is not None:
        query = query.where(Schedule.id > after)
    rows = session.exec(query.order_by(Schedule.id).limit(size + 1)).all()
    return make_page(rows, size, "s")


def last_runs(session: Session, schedule_ids: Sequence[int]) -> dict[int, Run]:
    """The newest run of each schedule (one index probe per schedule on (schedule_id, id))."""
    if not schedule_ids:
        return {}
    newest = (
        select(Run.id)
        .where(Run.schedule_id == Schedule.id)
        .order_by(Run.id.desc())
        .limit(1)
        .correlate(Schedule)
        .scalar_subquery()
    )
    ids = [
        run_id
        for run_id in session.exec(
            select(newest).select_from(Schedule).where(Schedule.id.in_(schedule_ids))
        ).all()
        if run_id is not None
    ]
    if not ids:
        return {}
    return {run.schedule_id: run for run in session.exec(select(Run).where(Run.id.in_(ids)))}
