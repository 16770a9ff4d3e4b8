"""Firing times: the next instants a schedule fires, within its starts_at/ends_at bounds."""

from __future__ import annotations

from datetime import UTC, datetime

from hookboard.domain.schedules.cron import next_cron
from hookboard.domain.schedules.intervals import next_interval
from hookboard.domain.schedules.spec import ScheduleSpec
from hookboard.domain.schedules.validation import require_aware, validate
from hookboard.domain.schedules.zones import ONE_MICROSECOND, load_zone


def next_fire_after(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """First firing instant strictly after ``after`` (aware, UTC), or None when completed."""
    validate(spec)
    require_aware("after", after)
    return _next_valid(spec, after.astimezone(UTC))


def next_fires(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    """Up to ``count`` consecutive firing instants after ``after`` (fewer if it completes)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    validate(spec)
    require_aware("after", after)
    fires: list[datetime] = []
    cursor: datetime | None = after.astimezone(UTC)
    while len(fires) < count and cursor is not None:
        cursor = _next_valid(spec, cursor)
        if cursor is not None:
            fires.append(cursor)
    return fires


def _next_valid(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """next_fire_after for a validated spec and an aware UTC ``after``."""
    if spec.starts_at is not None:
        # starts_at is inclusive, so look from just before it.
        after = max(after, spec.starts_at.astimezone(UTC) - ONE_MICROSECOND)
    zone = load_zone(spec.timezone)
    if spec.kind == "cron":
        assert spec.cron is not None
        fire = next_cron(spec.cron, zone, after)
    elif spec.kind == "once":
        assert spec.run_at is not None
        run_at = spec.run_at.astimezone(UTC)
        fire = run_at if run_at > after else None
    else:
        fire = next_interval(spec, zone, after)
    if fire is not None and spec.ends_at is not None and fire > spec.ends_at:
        return None
    return fire
