"""A user's targets and schedules as one export document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session, select

from hookboard.core.redaction import redact_headers
from hookboard.models import Schedule, ScheduleStatus, Target
from hookboard.services.transfer.document import (
    RequestItem,
    RetryItem,
    ScheduleDocument,
    ScheduleItem,
    TargetItem,
    aware,
)


def export_document(
    session: Session, *, user_id: int, include_secrets: bool = False, now: datetime | None = None
) -> ScheduleDocument:
    """The user's targets and (not completed) schedules, oldest first."""
    show = (lambda headers: dict(headers)) if include_secrets else redact_headers
    targets = session.exec(select(Target).where(Target.user_id == user_id).order_by(Target.id))
    names: dict[int, str] = {}
    target_items = []
    for target in targets:
        names[target.id] = target.name
        target_items.append(_target_item(target, show))
    schedules = session.exec(
        select(Schedule)
        .where(Schedule.user_id == user_id, Schedule.status != ScheduleStatus.completed)
        .order_by(Schedule.id)
    )
    return ScheduleDocument(
        exported_at=now or datetime.now(UTC),
        targets=target_items,
        schedules=[_schedule_item(s, names.get(s.target_id), show) for s in schedules],
    )


def _target_item(target: Target, show: Callable[[dict], dict]) -> TargetItem:
    return TargetItem(
        name=target.name,
        url=target.url,
        method=target.method,
        headers=show(target.headers or {}),
        body=target.body,
    )


def _schedule_item(
    schedule: Schedule, target_name: str | None, show: Callable[[dict], dict]
) -> ScheduleItem:
    return ScheduleItem(
        name=schedule.name,
        kind=schedule.kind,
        cron=schedule.cron,
        timezone=schedule.timezone,
        every=schedule.every,
        unit=schedule.unit,
        run_at=aware(schedule.run_at),
        starts_at=aware(schedule.starts_at),
        ends_at=aware(schedule.ends_at),
        target=target_name,
        request=RequestItem(
            url=schedule.url,
            method=schedule.method,
            headers=show(schedule.headers or {}),
            body=schedule.body,
        ),
        follow_redirects=schedule.follow_redirects,
        timeout_seconds=schedule.timeout_seconds,
        retry=RetryItem(
            max_attempts=schedule.max_attempts,
            backoff=schedule.backoff,
            base_delay_seconds=schedule.base_delay_seconds,
            max_delay_seconds=schedule.max_delay_seconds,
            jitter=schedule.jitter,
        ),
        misfire=schedule.misfire,
        overlap=schedule.overlap,
        paused=schedule.status == ScheduleStatus.paused,
        auto_pause_after=schedule.auto_pause_after,
        badge=schedule.badge_token is not None,
    )
