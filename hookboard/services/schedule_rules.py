"""The rules of a schedule's own fields: ranges, choices, the fields each kind
takes, and planning its next run when it is saved."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from hookboard.domain.firing import first_run_at, spec_for
from hookboard.domain.limits import (
    CHOICES,
    MAX_CRON_CHARS,
    MAX_STORED_EVERY,
    MAX_TIMEZONE_CHARS,
    RANGES,
)
from hookboard.domain.schedules import (
    ScheduleSpecError,
    validate,
)
from hookboard.models import (
    Schedule,
)
from hookboard.services.errors import InvalidInput
from hookboard.services.fields import api_field, check_name, check_text

TIMING_FIELDS = ("kind", "cron", "timezone", "every", "unit", "run_at", "starts_at", "ends_at")


# Fields that only mean something for some kinds.
_KIND_FIELDS = {
    "cron": ("cron",),
    "every": ("interval", "window"),
    "unit": ("interval", "window"),
    "run_at": ("once",),
}


SCHEDULE_COLUMNS = frozenset(
    {
        "name",
        *TIMING_FIELDS,
        "target_id",
        "url",
        "method",
        "headers",
        "body",
        "timeout_seconds",
        "follow_redirects",
        "max_attempts",
        "backoff",
        "base_delay_seconds",
        "max_delay_seconds",
        "jitter",
        "misfire",
        "overlap",
        "auto_pause_after",
    }
)


# Columns a partial edit may not set to null.
_NON_NULL = frozenset(
    {
        "name",
        "kind",
        "timezone",
        "timeout_seconds",
        "follow_redirects",
        "max_attempts",
        "backoff",
        "base_delay_seconds",
        "max_delay_seconds",
        "jitter",
        "misfire",
        "overlap",
        "auto_pause_after",
    }
)


_MAX_CHARS = {"timezone": MAX_TIMEZONE_CHARS, "cron": MAX_CRON_CHARS}


def check_schedule_scalars(fields: dict[str, Any]) -> None:
    for name in fields:
        if name not in SCHEDULE_COLUMNS:
            raise InvalidInput(name, "unknown field")
    for name, value in fields.items():
        if value is None and name in _NON_NULL:
            raise InvalidInput(api_field(name), "must not be null")
    if "name" in fields:
        fields["name"] = check_name(fields["name"])
    for name, choices in CHOICES.items():
        if name in fields and fields[name] not in choices:
            raise InvalidInput(api_field(name), f"must be one of {', '.join(choices)}")
    for name, (low, high) in RANGES.items():
        value = fields.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInput(api_field(name), "must be a number")
        if not low <= value <= high:
            raise InvalidInput(api_field(name), f"must be between {low} and {high}")
    for name, max_chars in _MAX_CHARS.items():
        if isinstance(fields.get(name), str):
            check_text(fields[name], name)
            if len(fields[name]) > max_chars:
                raise InvalidInput(name, f"must be at most {max_chars} characters")
    every = fields.get("every")
    if every is not None and isinstance(every, int) and not 1 <= every <= MAX_STORED_EVERY:
        raise InvalidInput("every", f"must be between 1 and {MAX_STORED_EVERY}")
    for name in ("run_at", "starts_at", "ends_at"):
        value = fields.get(name)
        if value is not None:
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise InvalidInput(name, "must be a date-time with a time zone offset")
            fields[name] = value.astimezone(UTC)


def check_kind_fields(schedule: Schedule, given: Iterable[str]) -> None:
    """A field that does not apply to the kind is an error when given, else cleared."""
    given = set(given)
    for name, kinds in _KIND_FIELDS.items():
        if schedule.kind in kinds or getattr(schedule, name) is None:
            continue
        if name in given:
            raise InvalidInput(name, f"only applies to {' and '.join(kinds)} schedules")
        setattr(schedule, name, None)


def spec_error(error: ScheduleSpecError) -> InvalidInput:
    return InvalidInput(api_field(error.field), error.reason)


def plan_next_run(schedule: Schedule, now: datetime) -> datetime:
    """Validate the timing and return the first firing from now; refuse a dead schedule."""
    try:
        validate(spec_for(schedule))
        first = first_run_at(schedule, now)
    except ScheduleSpecError as error:
        raise spec_error(error) from None
    except (ValueError, OverflowError) as error:
        raise InvalidInput(_dead_field(schedule), f"cannot be scheduled: {error}") from None
    if first is None:
        raise InvalidInput(_dead_field(schedule), "the schedule has no firing left after now")
    return first


def _dead_field(schedule: Schedule) -> str:
    if schedule.ends_at is not None:
        return "ends_at"
    return "run_at" if schedule.kind == "once" else "starts_at"
