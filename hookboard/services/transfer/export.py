"""A user's targets and schedules as one export document."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from hookboard.core.redaction import redact_headers, redact_url
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
    session: Session,
    *,
    workspace_id: int,
    include_secrets: bool = False,
    now: datetime | None = None,
) -> ScheduleDocument:
    """The user's targets and (not completed) schedules, oldest first."""
    show = _Shown(include_secrets)
    targets = session.exec(
        select(Target).where(Target.workspace_id == workspace_id).order_by(Target.id)
    )
    names: dict[int, str] = {}
    target_items = []
    for target in targets:
        names[target.id] = target.name
        target_items.append(_target_item(target, show))
    schedules = session.exec(
        select(Schedule)
        .where(Schedule.workspace_id == workspace_id, Schedule.status != ScheduleStatus.completed)
        .order_by(Schedule.id)
    )
    return ScheduleDocument(
        exported_at=now or datetime.now(UTC),
        targets=target_items,
        schedules=[_schedule_item(s, names.get(s.target_id), show) for s in schedules],
    )


class _Shown:
    """How secrets appear in the document: masked, or in full for a restorable backup."""

    def __init__(self, include_secrets: bool):
        self.include_secrets = include_secrets

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return dict(headers) if self.include_secrets else redact_headers(headers)

    def url(self, url: str | None) -> str | None:
        return url if self.include_secrets else redact_url(url)


def _target_item(target: Target, show: _Shown) -> TargetItem:
    return TargetItem(
        name=target.name,
        url=show.url(target.url),
        method=target.method,
        headers=show.headers(target.headers or {}),
        body=target.body,
    )


def _schedule_item(schedule: Schedule, target_name: str | None, show: _Shown) -> ScheduleItem:
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
            url=show.url(schedule.url),
            method=schedule.method,
            headers=show.headers(schedule.headers or {}),
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
