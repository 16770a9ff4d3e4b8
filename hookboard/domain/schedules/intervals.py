"""Interval schedules: fixed-duration steps and calendar steps in the schedule's zone."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, tzinfo

from hookboard.domain.schedules.spec import FIXED_UNIT_SECONDS, ScheduleSpec
from hookboard.domain.schedules.zones import local_wall, wall_to_instant


def interval_start(spec: ScheduleSpec) -> datetime:
    start = spec.starts_at if spec.starts_at is not None else spec.anchor
    assert start is not None  # guaranteed by validate()
    return start.astimezone(UTC)


def _next_fixed_interval(start: datetime, step: timedelta, after: datetime) -> datetime | None:
    if after < start:
        return start
    k = (after - start) // step + 1  # timedelta // timedelta is exact integer division
    try:
        return start + k * step
    except OverflowError:
        return None


def _add_months(wall: datetime, months: int) -> datetime:
    """Calendar month step; the day is clamped to the target month's last day."""
    month_index = wall.month - 1 + months
    year, month = wall.year + month_index // 12, month_index % 12 + 1
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return wall.replace(year=year, month=month, day=day)


def _calendar_step(start_wall: datetime, unit: str, amount: int) -> datetime:
    if unit == "days":
        return start_wall + timedelta(days=amount)
    if unit == "weeks":
        return start_wall + timedelta(weeks=amount)
    if unit == "months":
        return _add_months(start_wall, amount)
    return _add_months(start_wall, 12 * amount)  # years


def _estimate_calendar_k(start_wall: datetime, after_wall: datetime, every: int, unit: str) -> int:
    if unit in ("days", "weeks"):
        days = every * (7 if unit == "weeks" else 1)
        return (after_wall - start_wall).days // days
    months = every * (12 if unit == "years" else 1)
    elapsed = (after_wall.year - start_wall.year) * 12 + after_wall.month - start_wall.month
    return elapsed // months


def _next_calendar_interval(
    start: datetime, every: int, unit: str, zone: tzinfo, after: datetime
) -> datetime | None:
    if after < start:
        return start
    start_wall = local_wall(zone, start)

    def firing(k: int) -> datetime:
        # Always from the start, never chained, so clamped month days don't drift.
        return wall_to_instant(zone, _calendar_step(start_wall, unit, k * every))

    try:
        # The estimate is off by at most a step or two (DST, month lengths); correct it.
        k = max(1, _estimate_calendar_k(start_wall, local_wall(zone, after), every, unit) - 1)
        while k > 1 and firing(k - 1) > after:
            k -= 1
        while firing(k) <= after:
            k += 1
        return firing(k)
    except (OverflowError, ValueError):
        return None  # beyond year 9999


def next_interval(spec: ScheduleSpec, zone: tzinfo, after: datetime) -> datetime | None:
    start = interval_start(spec)
    assert spec.every is not None and spec.unit is not None
    if spec.unit in FIXED_UNIT_SECONDS:
        step = timedelta(seconds=spec.every * FIXED_UNIT_SECONDS[spec.unit])
        return _next_fixed_interval(start, step, after)
    return _next_calendar_interval(start, spec.every, spec.unit, zone, after)
