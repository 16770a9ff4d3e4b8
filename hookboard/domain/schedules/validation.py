"""Validation: whether a schedule spec can be scheduled, naming the offending field."""

from __future__ import annotations

from datetime import datetime

from hookboard.domain.limits import INTERVAL_UNITS, SCHEDULE_KINDS
from hookboard.domain.schedules.cron import parse_cron
from hookboard.domain.schedules.spec import MAX_EVERY, ScheduleSpec, ScheduleSpecError
from hookboard.domain.schedules.zones import load_zone


def validate(spec: ScheduleSpec) -> None:
    """Raise ScheduleSpecError (naming the field) unless ``spec`` can be scheduled."""
    if spec.kind not in SCHEDULE_KINDS:
        expected = ", ".join(SCHEDULE_KINDS)
        raise ScheduleSpecError("kind", f"unknown kind {spec.kind!r} (expected {expected})")
    if not isinstance(spec.timezone, str):
        raise ScheduleSpecError("timezone", f"must be a zone name, got {spec.timezone!r}")
    load_zone(spec.timezone)
    for name in ("run_at", "starts_at", "ends_at", "anchor"):
        require_aware(name, getattr(spec, name))

    if spec.kind == "cron":
        if not spec.cron:
            raise ScheduleSpecError("cron", "a cron schedule needs a cron expression")
        if not isinstance(spec.cron, str):
            raise ScheduleSpecError("cron", f"must be a string, got {type(spec.cron).__name__}")
        parse_cron(spec.cron)
    elif spec.kind == "once":
        if spec.run_at is None:
            raise ScheduleSpecError("run_at", "a once schedule needs run_at")
    else:
        _validate_interval(spec)

    if spec.starts_at is not None and spec.ends_at is not None and spec.ends_at <= spec.starts_at:
        raise ScheduleSpecError("ends_at", "must be after starts_at")


def _validate_interval(spec: ScheduleSpec) -> None:
    if spec.every is None:
        raise ScheduleSpecError("every", f"{spec.kind} schedules need every")
    # bool is an int subclass, but `every=True` is surely a mistake.
    if not isinstance(spec.every, int) or isinstance(spec.every, bool):
        raise ScheduleSpecError("every", f"must be a whole number, got {spec.every!r}")
    if spec.every < 1:
        raise ScheduleSpecError("every", f"must be at least 1, got {spec.every}")
    if spec.unit is None:
        raise ScheduleSpecError("unit", f"{spec.kind} schedules need unit")
    if spec.unit not in INTERVAL_UNITS:
        expected = ", ".join(INTERVAL_UNITS)
        raise ScheduleSpecError("unit", f"unknown unit {spec.unit!r} (expected {expected})")
    if spec.every > MAX_EVERY[spec.unit]:
        raise ScheduleSpecError("every", f"{spec.every} {spec.unit} is longer than 100 years")
    if spec.kind == "window":
        if spec.starts_at is None:
            raise ScheduleSpecError("starts_at", "a window schedule needs starts_at")
        if spec.ends_at is None:
            raise ScheduleSpecError("ends_at", "a window schedule needs ends_at")
    elif spec.starts_at is None and spec.anchor is None:
        raise ScheduleSpecError(
            "starts_at", "an interval needs starts_at or an anchor (its creation time)"
        )


def require_aware(field: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise ScheduleSpecError(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleSpecError(field, "must be timezone-aware")
