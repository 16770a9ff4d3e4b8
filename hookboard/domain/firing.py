"""What a due schedule does now: pure planning, no I/O.

The ticker asks `plan_firing` for every due schedule: which instant to record
a run for (if any), and the schedule's next `next_run_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from hookboard.domain.schedules import ScheduleSpec, next_fire_after

IN_FLIGHT = frozenset({"pending", "running", "retrying"})  # not final yet
# The overlap policy's "still running": a request of the run is in the air, or
# its next attempt is due, and its lease holds. A run that never left (pending:
# recorded while Redis was down, or a catch-up firing a moment ago) is not, and
# neither is one whose lease ran out (its worker died; it is being recovered).
DELIVERING = frozenset({"running", "retrying"})


def is_delivering(status: str | None, lease_expires_at: datetime | None, now: datetime) -> bool:
    return status in DELIVERING and lease_expires_at is not None and lease_expires_at >= now


class ScheduleTiming(Protocol):
    """The schedule columns that decide its firings (a row or a model)."""

    kind: str
    cron: str | None
    timezone: str
    every: int | None
    unit: str | None
    run_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    anchor_at: datetime


@dataclass(frozen=True)
class FiringPlan:
    fire_at: datetime | None  # the instant to record a run for; None: nothing fires
    next_run_at: datetime | None  # None: no firings left, the schedule is completed


def spec_for(schedule: ScheduleTiming) -> ScheduleSpec:
    return ScheduleSpec(
        kind=schedule.kind,
        timezone=schedule.timezone,
        cron=schedule.cron,
        every=schedule.every,
        unit=schedule.unit,
        run_at=schedule.run_at,
        starts_at=schedule.starts_at,
        ends_at=schedule.ends_at,
        anchor=schedule.anchor_at,
    )


def first_run_at(schedule: ScheduleTiming, now: datetime) -> datetime | None:
    """next_run_at for a new or resumed schedule: its first firing from now on.

    An interval's own start instant counts, so "every 5 minutes from now"
    fires now + 0 once the anchor is now. A one-off whose instant has just
    passed (or passed while paused) still fires once; the misfire policy
    decides whether a late one is sent.
    """
    spec = spec_for(schedule)
    if schedule.kind == "once" and schedule.run_at is not None and schedule.run_at <= now:
        return next_fire_after(spec, schedule.run_at - timedelta(microseconds=1))
    return next_fire_after(spec, now - timedelta(microseconds=1))


def plan_firing(
    schedule: ScheduleTiming,
    due_at: datetime,
    now: datetime,
    *,
    misfire: str,
    misfire_grace: timedelta,
) -> FiringPlan:
    """One firing for `due_at`, then the next instant not yet missed.

    An instant is missed once it is more than the grace in the past. Missed
    instants collapse into this one firing (`coalesce`) or are dropped
    (`skip`); instants within the grace still fire one by one, so a ticker
    that runs a little late catches up without losing any.
    """
    following = next_fire_after(spec_for(schedule), max(due_at, now - misfire_grace))
    missed = now - due_at > misfire_grace
    fire_at = None if (missed and misfire == "skip") else due_at
    return FiringPlan(fire_at=fire_at, next_run_at=following)
