"""Descriptions: a schedule in human words, e.g. "At 02:00, every day, Europe/Berlin"."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from cron_descriptor import ExpressionDescriptor, Options

from hookboard.domain.schedules.cron import cron_fields
from hookboard.domain.schedules.intervals import interval_start
from hookboard.domain.schedules.spec import FIXED_UNIT_SECONDS, ScheduleSpec
from hookboard.domain.schedules.validation import validate
from hookboard.domain.schedules.zones import load_zone, local_wall


def describe(spec: ScheduleSpec) -> str:
    """Human words for a schedule, e.g. "At 02:00, every day, Europe/Berlin"."""
    validate(spec)
    zone = load_zone(spec.timezone)
    if spec.kind == "cron":
        assert spec.cron is not None
        text = f"{_describe_cron(spec.cron)}, {spec.timezone}"
        separator = ", "
    elif spec.kind == "once":
        assert spec.run_at is not None
        text = f"Once at {_format_local(spec.run_at, zone)} {spec.timezone}"
        separator = " "
    else:
        text = _describe_interval(spec, zone)
        separator = " "
    bounds = _describe_bounds(spec, zone)
    return f"{text}{separator}{bounds}" if bounds else text


def _describe_cron(expr: str) -> str:
    fields = cron_fields(expr)
    if len(fields) == 6:
        fields = [fields[5], *fields[:5]]  # cron-descriptor wants seconds first
    # croniter spells "last Friday" L5; cron-descriptor spells it 5L.
    fields[-1] = re.sub(r"^[lL](\d)$", r"\1L", fields[-1])
    options = Options()
    options.use_24hour_time_format = True
    text = ExpressionDescriptor(" ".join(fields), options).get_description()
    day_fields = fields[-3:]
    if text.startswith("At ") and all(f in ("*", "?") for f in day_fields):
        text += ", every day"  # say so, rather than leave the day unstated
    return text


def _describe_interval(spec: ScheduleSpec, zone: tzinfo) -> str:
    assert spec.every is not None and spec.unit is not None
    singular = spec.unit[:-1]
    every = f"Every {singular}" if spec.every == 1 else f"Every {spec.every} {spec.unit}"
    if spec.unit in FIXED_UNIT_SECONDS:
        return every
    start = local_wall(zone, interval_start(spec))
    at = f"at {start:%H:%M}" + (f":{start:%S}" if start.second else "")
    if spec.unit == "weeks":
        on = f" on {start:%A}"
    elif spec.unit == "months":
        on = f" on day {start.day}" + (" (or the month's last day)" if start.day > 28 else "")
    elif spec.unit == "years":
        leap_day = (start.month, start.day) == (2, 29)
        on = f" on {start.day} {start:%B}" + (" (28 February in other years)" if leap_day else "")
    else:
        on = ""
    return f"{every}{on} {at} {spec.timezone}"


def _describe_bounds(spec: ScheduleSpec, zone: tzinfo) -> str:
    start, end = spec.starts_at, spec.ends_at
    if start is not None and end is not None:
        return (
            f"between {_format_local(start, zone)} and {_format_local(end, zone)} {spec.timezone}"
        )
    if start is not None:
        return f"from {_format_local(start, zone)} {spec.timezone}"
    if end is not None:
        return f"until {_format_local(end, zone)} {spec.timezone}"
    return ""


def _format_local(instant: datetime, zone: tzinfo) -> str:
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M}" + (f":{local:%S}" if local.second else "")
