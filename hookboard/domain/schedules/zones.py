"""Time zones: zone lookup, UTC-offset transitions, and Debian cron's wall-time rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hookboard.domain.schedules.spec import ScheduleSpecError

# Offset changes are assumed to be at least this far apart (true for every tzdata zone in
# practice); the transition search probes at this step and bisects the step that changed.
_TRANSITION_PROBE = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
ONE_MICROSECOND = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=256)
def load_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ScheduleSpecError("timezone", f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: keys that are paths or otherwise not zone names.
        raise ScheduleSpecError("timezone", f"unknown time zone {name!r}") from None


def offset_at(zone: tzinfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def local_wall(zone: tzinfo, instant: datetime) -> datetime:
    """The naive wall-clock time shown in ``zone`` at ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def first_transition(zone: tzinfo, lo: datetime, hi: datetime) -> datetime | None:
    """First instant in (lo, hi] whose UTC offset differs from the one at ``lo``."""
    before = offset_at(zone, lo)
    probe_lo = lo
    while probe_lo < hi:
        probe_hi = min(probe_lo + _TRANSITION_PROBE, hi)
        if offset_at(zone, probe_hi) != before:
            return _bisect_transition(zone, probe_lo, probe_hi, before)
        probe_lo = probe_hi
    return None


def _bisect_transition(
    zone: tzinfo, lo: datetime, hi: datetime, before: timedelta
) -> datetime | None:
    # tzdata transitions sit on whole UTC seconds, so bisect over integer seconds.
    lo_s = (lo - EPOCH) // _ONE_SECOND
    hi_s = -((EPOCH - hi) // _ONE_SECOND)  # ceiling
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if offset_at(zone, EPOCH + mid * _ONE_SECOND) == before:
            lo_s = mid
        else:
            hi_s = mid
    found = EPOCH + hi_s * _ONE_SECOND
    return found if lo < found <= hi else None


def wall_to_instant(zone: tzinfo, wall: datetime) -> datetime:
    """Map a naive wall time to the single instant it fires at (Debian cron's rule).

    Ambiguous (repeated) wall times map to their first occurrence; wall times in a gap map
    to the jump itself, the first real instant after the gap.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if local_wall(zone, first) == wall:
        return first
    # In a gap, fold=0 and fold=1 read the wall time with the offsets on either side of the
    # jump, so the jump lies between the two readings.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, second), max(first, second)
    return first_transition(zone, lo, hi) or hi
