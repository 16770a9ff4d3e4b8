"""Cron expressions: parsing and validating them, and their next firing instant."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from croniter import CroniterBadDateError, CroniterError, croniter

from hookboard.domain.schedules.spec import ScheduleSpecError
from hookboard.domain.schedules.zones import (
    EPOCH,
    ONE_MICROSECOND,
    first_transition,
    local_wall,
    offset_at,
    wall_to_instant,
)

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


def cron_fields(expr: str) -> list[str]:
    text = expr.strip()
    fields = _CRON_MACROS.get(text.lower(), text).split()
    return [",".join(_EQUAL_RANGE.sub(r"\1", part) for part in f.split(",")) for f in fields]


@lru_cache(maxsize=1024)
def parse_cron(expr: str) -> tuple[list[list[int | str]], ...]:
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
    fields = cron_fields(text)
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


def is_wild_cron(expr: str) -> bool:
    """True for what Debian's cron calls a *wild* job: the text of the minute or the
    hour field starts with ``*`` (``MIN_STAR``/``HR_STAR`` in its entry.c), and the same
    rule for Hookboard's seconds field. It looks at the text, not at how many values the
    field matches: ``0 */2 * * *`` is wild, ``0,30 2 * * *`` and ``0 0-23 * * *`` are not
    (``@hourly`` is ``0 * * * *``, so wild). Wild jobs fire at every wall time that exists
    and none that does not; all others fire once per wall-clock time.
    """
    parse_cron(expr)  # refuses a bad expression
    fields = cron_fields(expr)
    minute, hour = fields[0], fields[1]
    seconds = fields[5] if len(fields) > 5 else "0"
    return any(field.startswith("*") for field in (minute, hour, seconds))


@lru_cache(maxsize=1024)
def _cron_template(expr: str) -> croniter:
    return croniter(" ".join(cron_fields(expr)), EPOCH.replace(tzinfo=None), ret_type=datetime)


def _cron_next_wall(expr: str, wall: datetime, *, inclusive: bool = False) -> datetime:
    """The first naive wall time matching ``expr`` after (or at, if inclusive) ``wall``."""
    start = wall - ONE_MICROSECOND if inclusive else wall
    # Parsing dominates croniter's cost, so parse once; instances carry a cursor, so each
    # use gets its own shallow copy (the parsed fields are only read).
    return copy.copy(_cron_template(expr)).get_next(start_time=start)


def _next_cron_fixed_time(expr: str, zone: tzinfo, after: datetime) -> datetime:
    # Wall time -> instant is monotone under the fold=0/jump rule, so scanning wall times
    # from the wall time of `after` finds the earliest instant. Candidates at or before
    # `after` only occur inside a repeated hour, or when `after` is in its second pass.
    wall = local_wall(zone, after)
    while True:
        wall = _cron_next_wall(expr, wall)
        instant = wall_to_instant(zone, wall)
        if instant > after:
            return instant


def _next_cron_wild(expr: str, zone: tzinfo, after: datetime) -> datetime:
    # Real-time pattern: within a stretch of constant UTC offset, fire at the wall times
    # matching the expression. When the offset changes before the candidate, restart at the
    # change with the new offset (including the change instant itself).
    segment_start, inclusive = after, False
    while True:
        offset = offset_at(zone, segment_start)
        wall = (segment_start + offset).replace(tzinfo=None)
        candidate = (_cron_next_wall(expr, wall, inclusive=inclusive) - offset).replace(tzinfo=UTC)
        change = first_transition(zone, segment_start, candidate)
        if change is None:
            return candidate
        segment_start, inclusive = change, True


def next_cron(expr: str, zone: tzinfo, after: datetime) -> datetime | None:
    find_next = _next_cron_wild if is_wild_cron(expr) else _next_cron_fixed_time
    try:
        return find_next(expr, zone, after)
    except (CroniterBadDateError, OverflowError, ValueError):
        return None  # no match within croniter's horizon, or past year 9999
