"""The next fire times of a timing not yet saved, for the editor and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hookboard.domain.schedules import (
    ScheduleSpec,
    ScheduleSpecError,
    describe,
    next_fires,
    validate,
)
from hookboard.services.errors import InvalidInput
from hookboard.services.schedule_rules import TIMING_FIELDS, check_schedule_scalars, spec_error

PREVIEW_COUNT = 5


@dataclass(frozen=True)
class Preview:
    description: str
    next: list[datetime]


def preview_schedule(timing: dict[str, Any], *, now: datetime, count: int = PREVIEW_COUNT):
    """Words for a timing and its next `count` firings from max(starts_at, now)."""
    fields = {name: timing.get(name) for name in TIMING_FIELDS}
    if fields["timezone"] is None:
        fields["timezone"] = "UTC"
    check_schedule_scalars({k: v for k, v in fields.items() if v is not None})
    if not fields["kind"]:
        raise InvalidInput("kind", "a kind is required")
    for name in ("run_at", "starts_at", "ends_at"):
        if fields[name] is not None:
            fields[name] = fields[name].astimezone(UTC)
    spec = ScheduleSpec(
        kind=fields["kind"],
        timezone=fields["timezone"],
        cron=fields["cron"],
        every=fields["every"],
        unit=fields["unit"],
        run_at=fields["run_at"],
        starts_at=fields["starts_at"],
        ends_at=fields["ends_at"],
        anchor=fields["starts_at"] or now,
    )
    try:
        validate(spec)
        fires = next_fires(spec, now - timedelta(microseconds=1), count)
        return Preview(describe(spec), fires)
    except ScheduleSpecError as error:
        raise spec_error(error) from None
    except (ValueError, OverflowError) as error:
        raise InvalidInput(None, f"cannot be scheduled: {error}") from None
