"""Cron firings across DST agree with cronsim, which follows Debian's cron exactly.

Every pair of minute and hour field below (wild or not by Debian's text rule,
lists, ranges, steps), a few day fields, in three zones (north and south of
the equator) across both transitions of 2026: the next 48 firings from the
day before each transition, as the preview and the ticker compute them.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from hookboard.domain.schedules import ScheduleSpec, next_fires

MINUTES = ["0", "30", "59", "*", "*/15", "*/7", "0,30", "15,45", "0-10/5", "0-59", "5-10"]
HOURS = ["*", "*/2", "*/1", "0", "1", "2", "3", "1-3", "2-3", "0-23", "1,2,3", "2,3"]
DAYS = ["* * *", "* * 0", "1-7 * *"]
EXPRESSIONS = [
    f"{minute} {hour} {days}"
    for minute, hour, days in itertools.product(MINUTES, HOURS, DAYS)
    if days == "* * *" or (minute in ("0", "*/15") and hour in ("*/2", "2", "1-3"))
]
# The day before each 2026 transition: spring forward, then fall back.
TRANSITIONS = [
    ("America/New_York", datetime(2026, 3, 7)),
    ("America/New_York", datetime(2026, 10, 31)),
    ("Europe/Berlin", datetime(2026, 3, 28)),
    ("Europe/Berlin", datetime(2026, 10, 24)),
    ("Australia/Sydney", datetime(2026, 10, 3)),  # spring forward, south
    ("Australia/Sydney", datetime(2026, 4, 4)),
]
FIRINGS = 48


def debian(expr: str, start: datetime) -> list[datetime]:
    return [fire.astimezone(UTC) for fire in itertools.islice(CronSim(expr, start), FIRINGS)]


def test_the_cases_cover_many_expressions():
    assert len(EXPRESSIONS) * len(TRANSITIONS) >= 800


@pytest.mark.parametrize(("zone", "day"), TRANSITIONS, ids=lambda v: str(v)[:10])
def test_every_expression_fires_as_debian_across_the_transition(zone, day):
    start = day.replace(tzinfo=ZoneInfo(zone))
    disagreements = {}
    for expr in EXPRESSIONS:
        spec = ScheduleSpec(kind="cron", cron=expr, timezone=zone)
        ours = next_fires(spec, start.astimezone(UTC), FIRINGS)
        expected = debian(expr, start)
        if ours != expected:
            first = next(i for i, (a, b) in enumerate(zip(ours, expected, strict=True)) if a != b)
            disagreements[expr] = f"firing {first}: ours {ours[first]}, Debian {expected[first]}"
    assert disagreements == {}
