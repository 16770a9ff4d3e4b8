"""The schedule spec type, its error and the constants that bound it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FIXED_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
_HUNDRED_YEARS_DAYS = 36525
# Largest `every` per unit: the step may not exceed 100 years.
MAX_EVERY = {
    "seconds": _HUNDRED_YEARS_DAYS * 86400,
    "minutes": _HUNDRED_YEARS_DAYS * 1440,
    "hours": _HUNDRED_YEARS_DAYS * 24,
    "days": _HUNDRED_YEARS_DAYS,
    "weeks": _HUNDRED_YEARS_DAYS // 7,
    "months": 1200,
    "years": 100,
}


class ScheduleSpecError(ValueError):
    """A schedule spec is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str
    timezone: str = "UTC"
    cron: str | None = None
    every: int | None = None
    unit: str | None = None
    run_at: datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    anchor: datetime | None = None
