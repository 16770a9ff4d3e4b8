"""Schedule specs and their firing times: pure time logic, no I/O.

Four kinds of schedule:

* ``cron``: a cron expression evaluated in the schedule's IANA time zone. Five fields
  (``minute hour day-of-month month day-of-week``), the macros ``@hourly @daily @weekly
  @monthly @yearly @annually @midnight``, and croniter's ``L`` (last day of month; ``L5`` =
  last Friday), ``W`` (nearest weekday, ``15W``) and ``#`` (``5#3`` = third Friday).
  An optional **6th field holds the seconds and comes last**: ``minute hour dom month dow
  second`` (croniter's default; ``* * * * * */10`` fires every 10 seconds). ``H``/``R``
  (hashed/random) values, ``@reboot`` and a 7th (year) field are rejected. An equal range
  such as ``5-5`` means just ``5`` (croniter alone would read it as the whole field).
* ``interval``: every N units. Seconds, minutes and hours are fixed durations from the start
  (``starts_at``, else ``anchor``), firing k at ``start + k*N`` with no drift. Days, weeks,
  months and years are calendar steps in the schedule's zone, each computed from the start
  (so the wall-clock time of day survives DST and Jan 31 + 1 month = Feb 28, + 2 = Mar 31).
* ``once``: fires at ``run_at``.
* ``window``: an interval that requires ``starts_at`` and ``ends_at``.

Any kind may carry ``starts_at``/``ends_at``: nothing fires before ``starts_at`` or after
``ends_at`` (both inclusive).

DST follows Debian's cron. A *frequent* cron job (see :func:`is_frequent_cron`) keeps its
pattern in real time: in a repeated (fall-back) hour it fires in both occurrences, in a
skipped (spring-forward) hour it does not fire. Every other job - fixed-time cron jobs and
calendar-step intervals - fires once per wall-clock time: a wall time skipped by
spring-forward fires at the jump (the first real instant after the gap; several skipped
times collapse into that one firing), and a repeated wall time fires at its first
occurrence only.
"""

from __future__ import annotations

import calendar
import copy
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import ExpressionDescriptor, Options
from croniter import CroniterBadDateError, CroniterError, croniter

UNITS = ("seconds", "minutes", "hours", "days", "weeks", "months", "years")
KINDS = ("cron", "interval", "once", "window")

_FIXED_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
_HUNDRED_YEARS_DAYS = 36525
# Largest `every` per unit: the step may not exceed 100 years.
_MAX_EVERY = {
    "seconds": _HUNDRED_YEARS_DAYS * 86400,
    "minutes": _HUNDRED_YEARS_DAYS * 1440,
    "hours": _HUNDRED_YEARS_DAYS * 24,
    "days": _HUNDRED_YEARS_DAYS,
    "weeks": _HUNDRED_YEARS_DAYS // 7,
    "months": 1200,
    "years": 100,
}

_CRON_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
# (name, allowed values) per position; the seconds field is the 6th and last.
_CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31, L or nW"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT, n#k, Ln"),
    ("second", "0-59"),
)
_HASHED_OR_RANDOM = re.compile(r"^[hr](\(|/|$)", re.IGNORECASE)
# croniter 7 reads an equal range such as "5-5" or "MON-MON" as the whole field; cron means
# just that one value, so such ranges (with or without a step) are rewritten to the value.
_EQUAL_RANGE = re.compile(r"^(\w+)-\1(?:/\d+)?$", re.IGNORECASE)

# Offset changes are assumed to be at least this far apart (true for every tzdata zone in
# practice); the transition search probes at this step and bisects the step that changed.
_TRANSITION_PROBE = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


# --------------------------------------------------------------------------- validation


def validate(spec: ScheduleSpec) -> None:
    """Raise ScheduleSpecError (naming the field) unless ``spec`` can be scheduled."""
    if spec.kind not in KINDS:
        raise ScheduleSpecError("kind", f"unknown kind {spec.kind!r} (expected {', '.join(KINDS)})")
    if not isinstance(spec.timezone, str):
        raise ScheduleSpecError("timezone", f"must be a zone name, got {spec.timezone!r}")
    _zone(spec.timezone)
    for name in ("run_at", "starts_at", "ends_at", "anchor"):
        _require_aware(name, getattr(spec, name))

    if spec.kind == "cron":
        if not spec.cron:
            raise ScheduleSpecError("cron", "a cron schedule needs a cron expression")
        if not isinstance(spec.cron, str):
            raise ScheduleSpecError("cron", f"must be a string, got {type(spec.cron).__name__}")
        _parse_cron(spec.cron)
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
    if spec.unit not in UNITS:
        raise ScheduleSpecError("unit", f"unknown unit {spec.unit!r} (expected {', '.join(UNITS)})")
    if spec.every > _MAX_EVERY[spec.unit]:
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


def _require_aware(field: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise ScheduleSpecError(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleSpecError(field, "must be timezone-aware")


# --------------------------------------------------------------------------- time zones


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ScheduleSpecError("timezone", f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: keys that are paths or otherwise not zone names.
        raise ScheduleSpecError("timezone", f"unknown time zone {name!r}") from None


def _offset_at(zone: tzinfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _local_wall(zone: tzinfo, instant: datetime) -> datetime:
    """The naive wall-clock time shown in ``zone`` at ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _first_transition(zone: tzinfo, lo: datetime, hi: datetime) -> datetime | None:
    """First instant in (lo, hi] whose UTC offset differs from the one at ``lo``."""
    before = _offset_at(zone, lo)
    probe_lo = lo
    while probe_lo < hi:
        probe_hi = min(probe_lo + _TRANSITION_PROBE, hi)
        if _offset_at(zone, probe_hi) != before:
            return _bisect_transition(zone, probe_lo, probe_hi, before)
        probe_lo = probe_hi
    return None


def _bisect_transition(
    zone: tzinfo, lo: datetime, hi: datetime, before: timedelta
) -> datetime | None:
    # tzdata transitions sit on whole UTC seconds, so bisect over integer seconds.
    lo_s = (lo - _EPOCH) // _ONE_SECOND
    hi_s = -((_EPOCH - hi) // _ONE_SECOND)  # ceiling
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _offset_at(zone, _EPOCH + mid * _ONE_SECOND) == before:
            lo_s = mid
        else:
            hi_s = mid
    found = _EPOCH + hi_s * _ONE_SECOND
    return found if lo < found <= hi else None


def _wall_to_instant(zone: tzinfo, wall: datetime) -> datetime:
    """Map a naive wall time to the single instant it fires at (Debian cron's rule).

    Ambiguous (repeated) wall times map to their first occurrence; wall times in a gap map
    to the jump itself, the first real instant after the gap.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _local_wall(zone, first) == wall:
        return first
    # In a gap, fold=0 and fold=1 read the wall time with the offsets on either side of the
    # jump, so the jump lies between the two readings.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, second), max(first, second)
    return _first_transition(zone, lo, hi) or hi


# --------------------------------------------------------------------------- cron


def _cron_fields(expr: str) -> list[str]:
    text = expr.strip()
    fields = _CRON_MACROS.get(text.lower(), text).split()
    return [",".join(_EQUAL_RANGE.sub(r"\1", part) for part in f.split(",")) for f in fields]


@lru_cache(maxsize=1024)
def _parse_cron(expr: str) -> tuple[list[list[int | str]], ...]:
    """Validate a cron expression and return croniter's expansion, one list per field."""
    if not isinstance(expr, str) or not expr.strip():
        raise ScheduleSpecError("cron", "the cron expression is empty")
    text = expr.strip()
    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise ScheduleSpecError("cron", "@reboot is not supported: schedules have no boot")
        if text.lower() not in _CRON_MACROS:
            raise ScheduleSpecError(
                "cron", f"unknown macro {text!r} (expected one of {', '.join(_CRON_MACROS)})"
            )
    fields = _cron_fields(text)
    if len(fields) not in (5, 6):
        raise ScheduleSpecError(
            "cron",
            f"expected 5 fields (minute hour day-of-month month day-of-week), or 6 with "
            f"seconds last, got {len(fields)}",
        )
    for index, token in enumerate(fields):
        _check_cron_field(fields, index, token)
    try:
        expanded, _ = croniter.expand(" ".join(fields), strict=True)
    except CroniterError as exc:
        raise ScheduleSpecError("cron", _humanize_croniter_message(str(exc))) from None
    return tuple(expanded)


def _check_cron_field(fields: list[str], index: int, token: str) -> None:
    """Check one field on its own so the error can say which field is wrong."""
    name, allowed = _CRON_FIELDS[index]
    if any(_HASHED_OR_RANDOM.match(part) for part in token.split(",")):
        raise ScheduleSpecError(
            "cron", f"hashed (H) and random (R) values are not supported ({name} field {token!r})"
        )
    alone = ["*"] * len(fields)
    alone[index] = token
    try:
        croniter.expand(" ".join(alone))
    except CroniterError as exc:
        problem = "is out of range" if "out of range" in str(exc) else "is not valid"
        raise ScheduleSpecError(
            "cron", f"{name} field {token!r} {problem} (allowed: {allowed})"
        ) from None


def _humanize_croniter_message(message: str) -> str:
    message = re.sub(r"^\[[^\]]*\]\s*", "", message)  # drop the echoed expression
    message = re.sub(r"^is not acceptable[.,]?\s*", "", message)
    message = re.sub(r"\s+Cron:.*$", "", message, flags=re.DOTALL)
    message = message.strip() or "invalid cron expression"
    return message[0].lower() + message[1:]


def is_frequent_cron(expr: str) -> bool:
    """True when ``expr`` can fire more than once an hour or fires in every hour.

    Precisely: the minute field or the seconds field matches more than one value, or the
    hour field matches all 24 hours (``*``, ``*/1``, ``0-23``). Frequent jobs keep their
    pattern in real time across DST changes; all others fire once per wall-clock time.
    """
    expanded = _parse_cron(expr)
    minutes, hours = expanded[0], expanded[1]
    seconds = expanded[5] if len(expanded) > 5 else [0]
    return _matches_many(minutes) or _matches_many(seconds) or hours == ["*"]


def _matches_many(values: list[int | str]) -> bool:
    return values == ["*"] or len(values) > 1


@lru_cache(maxsize=1024)
def _cron_template(expr: str) -> croniter:
    return croniter(" ".join(_cron_fields(expr)), _EPOCH.replace(tzinfo=None), ret_type=datetime)


def _cron_next_wall(expr: str, wall: datetime, *, inclusive: bool = False) -> datetime:
    """The first naive wall time matching ``expr`` after (or at, if inclusive) ``wall``."""
    start = wall - _ONE_MICROSECOND if inclusive else wall
    # Parsing dominates croniter's cost, so parse once; instances carry a cursor, so each
    # use gets its own shallow copy (the parsed fields are only read).
    return copy.copy(_cron_template(expr)).get_next(start_time=start)


def _next_cron_fixed_time(expr: str, zone: tzinfo, after: datetime) -> datetime:
    # Wall time -> instant is monotone under the fold=0/jump rule, so scanning wall times
    # from the wall time of `after` finds the earliest instant. Candidates at or before
    # `after` only occur inside a repeated hour, or when `after` is in its second pass.
    wall = _local_wall(zone, after)
    while True:
        wall = _cron_next_wall(expr, wall)
        instant = _wall_to_instant(zone, wall)
        if instant > after:
            return instant


def _next_cron_frequent(expr: str, zone: tzinfo, after: datetime) -> datetime:
    # Real-time pattern: within a stretch of constant UTC offset, fire at the wall times
    # matching the expression. When the offset changes before the candidate, restart at the
    # change with the new offset (including the change instant itself).
    segment_start, inclusive = after, False
    while True:
        offset = _offset_at(zone, segment_start)
        wall = (segment_start + offset).replace(tzinfo=None)
        candidate = (_cron_next_wall(expr, wall, inclusive=inclusive) - offset).replace(tzinfo=UTC)
        change = _first_transition(zone, segment_start, candidate)
        if change is None:
            return candidate
        segment_start, inclusive = change, True


def _next_cron(expr: str, zone: tzinfo, after: datetime) -> datetime | None:
    find_next = _next_cron_frequent if is_frequent_cron(expr) else _next_cron_fixed_time
    try:
        return find_next(expr, zone, after)
    except (CroniterBadDateError, OverflowError, ValueError):
        return None  # no match within croniter's horizon, or past year 9999


# --------------------------------------------------------------------------- intervals


def _interval_start(spec: ScheduleSpec) -> datetime:
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
    start_wall = _local_wall(zone, start)

    def firing(k: int) -> datetime:
        # Always from the start, never chained, so clamped month days don't drift.
        return _wall_to_instant(zone, _calendar_step(start_wall, unit, k * every))

    try:
        # The estimate is off by at most a step or two (DST, month lengths); correct it.
        k = max(1, _estimate_calendar_k(start_wall, _local_wall(zone, after), every, unit) - 1)
        while k > 1 and firing(k - 1) > after:
            k -= 1
        while firing(k) <= after:
            k += 1
        return firing(k)
    except (OverflowError, ValueError):
        return None  # beyond year 9999


def _next_interval(spec: ScheduleSpec, zone: tzinfo, after: datetime) -> datetime | None:
    start = _interval_start(spec)
    assert spec.every is not None and spec.unit is not None
    if spec.unit in _FIXED_UNIT_SECONDS:
        step = timedelta(seconds=spec.every * _FIXED_UNIT_SECONDS[spec.unit])
        return _next_fixed_interval(start, step, after)
    return _next_calendar_interval(start, spec.every, spec.unit, zone, after)


# --------------------------------------------------------------------------- firing times


def next_fire_after(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """First firing instant strictly after ``after`` (aware, UTC), or None when completed."""
    validate(spec)
    _require_aware("after", after)
    return _next_valid(spec, after.astimezone(UTC))


def next_fires(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    """Up to ``count`` consecutive firing instants after ``after`` (fewer if it completes)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    validate(spec)
    _require_aware("after", after)
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
        after = max(after, spec.starts_at.astimezone(UTC) - _ONE_MICROSECOND)
    zone = _zone(spec.timezone)
    if spec.kind == "cron":
        assert spec.cron is not None
        fire = _next_cron(spec.cron, zone, after)
    elif spec.kind == "once":
        assert spec.run_at is not None
        run_at = spec.run_at.astimezone(UTC)
        fire = run_at if run_at > after else None
    else:
        fire = _next_interval(spec, zone, after)
    if fire is not None and spec.ends_at is not None and fire > spec.ends_at:
        return None
    return fire


# --------------------------------------------------------------------------- describe


def describe(spec: ScheduleSpec) -> str:
    """Human words for a schedule, e.g. "At 02:00, every day, Europe/Berlin"."""
    validate(spec)
    zone = _zone(spec.timezone)
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
    fields = _cron_fields(expr)
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
    if spec.unit in _FIXED_UNIT_SECONDS:
        return every
    start = _local_wall(zone, _interval_start(spec))
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
