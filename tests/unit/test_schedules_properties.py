"""Property tests for hookboard.domain.schedules (bounded so the file runs in a few seconds)."""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookboard.domain.schedules import ScheduleSpec, next_fire_after, next_fires

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
)
TINY = timedelta(microseconds=1)

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
# Instants near 2026's DST transitions, where the interesting cases live.
near_transitions = st.sampled_from(
    [
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2026, 4, 4, 16, tzinfo=UTC),
        datetime(2026, 10, 3, 16, tzinfo=UTC),
        datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
        datetime(2026, 9, 6, 4, tzinfo=UTC),
    ]
).flatmap(lambda t: st.integers(-4 * 3600, 4 * 3600).map(lambda s: t + timedelta(seconds=s)))
any_instant = st.one_of(instants, near_transitions)


@dataclass(frozen=True)
class CronCase:
    expr: str
    explicit: str  # the same schedule with every field spelled as "*" or a list of values
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: "*"
    months: frozenset[int]
    weekdays: frozenset[int] | None  # None: "*"; 0 = Sunday
    seconds: frozenset[int]


def field(low: int, high: int, *, allow_star: bool = True) -> st.SearchStrategy:
    """(token, values) for one cron field; allow_star when low-high is the whole field."""
    every = frozenset(range(low, high + 1))
    single = st.integers(low, high).map(lambda v: (str(v), frozenset({v})))
    # "*/n" only when low-high is the field's whole range; otherwise spell the range out.
    star = "*" if allow_star else f"{low}-{high}"
    step = st.integers(2, max(2, (high - low) // 2)).map(
        lambda n: (f"{star}/{n}", frozenset(range(low, high + 1, n)))
    )
    span = st.tuples(st.integers(low, high), st.integers(low, high)).map(sorted)
    ranged = span.map(lambda ab: (f"{ab[0]}-{ab[1]}", frozenset(range(ab[0], ab[1] + 1))))
    listed = st.sets(st.integers(low, high), min_size=2, max_size=4).map(
        lambda vs: (",".join(map(str, sorted(vs))), frozenset(vs))
    )
    options = [single, step, ranged, listed]
    if allow_star:
        options.append(st.just(("*", every)))
    return st.one_of(options)


@st.composite
def cron_cases(draw: st.DrawFn, *, with_seconds: bool | None = None) -> CronCase:
    minute, minutes = draw(field(0, 59))
    hour, hours = draw(field(0, 23))
    # Days up to 28 and every month's star keep matches frequent enough to find quickly.
    day, days = draw(st.one_of(st.just(("*", None)), field(1, 28, allow_star=False)))
    month, months = draw(st.one_of(st.just(("*", frozenset(range(1, 13)))), field(1, 12)))
    weekday, weekdays = draw(st.one_of(st.just(("*", None)), field(0, 6, allow_star=False)))
    if with_seconds is None:
        with_seconds = draw(st.booleans())
    second, seconds = draw(field(0, 59)) if with_seconds else ("", frozenset({0}))
    tokens = (minute, hour, day, month, weekday, second)
    values = (minutes, hours, days, months, weekdays, seconds if with_seconds else None)
    expr = " ".join(t for t in tokens if t)
    explicit = " ".join(explicit_token(t, v) for t, v in zip(tokens, values, strict=True) if t)
    return CronCase(expr, explicit, minutes, hours, days, months, weekdays, seconds)


def explicit_token(token: str, values: frozenset[int] | None) -> str:
    # Keep "*" (it decides Vixie's day-of-month/day-of-week OR); list everything else.
    return "*" if token == "*" or values is None else ",".join(map(str, sorted(values)))


def matches(case: CronCase, t: datetime) -> bool:
    """Independent re-implementation of Vixie cron matching for the generated fields."""
    weekday = (t.weekday() + 1) % 7
    if case.days is None and case.weekdays is None:
        day_ok = True
    elif case.days is None:
        day_ok = weekday in case.weekdays
    elif case.weekdays is None:
        day_ok = t.day in case.days
    else:  # both restricted: either one (Vixie cron's OR)
        day_ok = t.day in case.days or weekday in case.weekdays
    return (
        t.second in case.seconds
        and t.minute in case.minutes
        and t.hour in case.hours
        and t.month in case.months
        and day_ok
        and t.microsecond == 0
    )


# --------------------------------------------------------------------------- cron


@PROPERTY_SETTINGS
@given(case=cron_cases(), after=instants)
def test_utc_cron_fires_match_the_expression_and_nothing_matches_before(case, after):
    spec = ScheduleSpec("cron", "UTC", cron=case.expr)
    fire = next_fire_after(spec, after)
    assert fire is not None and fire > after
    assert matches(case, fire)
    # Nothing matching lies strictly between `after` and the firing. The oracle gets the
    # explicit spelling, so it does not share any parsing quirk with the code under test.
    previous = croniter(case.explicit, fire.replace(tzinfo=None), ret_type=datetime).get_prev()
    assert previous.replace(tzinfo=UTC) <= after


@PROPERTY_SETTINGS
@given(case=cron_cases(), tz=st.sampled_from(ZONES), after=any_instant)
def test_cron_fires_strictly_increase_and_are_reproducible(case, tz, after):
    spec = ScheduleSpec("cron", tz, cron=case.expr)
    fires = next_fires(spec, after, 4)
    assert fires, "every generated expression fires eventually"
    assert all(f.tzinfo is UTC for f in fires)
    assert fires[0] > after
    assert all(a < b for a, b in itertools.pairwise(fires))
    for fire in fires:
        # Asking again from just before a firing finds that same firing.
        assert next_fire_after(spec, fire - TINY) == fire


@PROPERTY_SETTINGS
@given(case=cron_cases(), tz=st.sampled_from(ZONES), after=any_instant)
def test_cron_fires_fall_on_matching_wall_times_or_dst_jumps(case, tz, after):
    zone = ZoneInfo(tz)
    fire = next_fire_after(ScheduleSpec("cron", tz, cron=case.expr), after)
    assert fire is not None
    local = fire.astimezone(zone).replace(tzinfo=None)
    just_before = (fire - TINY).astimezone(zone).utcoffset()
    at_jump = just_before != fire.astimezone(zone).utcoffset()
    # Either the wall time matches, or the firing stands in for a skipped wall time.
    assert matches(case, local) or at_jump


TRANSITIONS = (
    ("Europe/Berlin", datetime(2026, 3, 29, 1, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2026, 10, 25, 1, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC)),
    ("Australia/Sydney", datetime(2026, 10, 3, 16, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
    ("America/Santiago", datetime(2026, 4, 5, 3, tzinfo=UTC)),
    ("America/Santiago", datetime(2026, 9, 6, 4, tzinfo=UTC)),
)
MINUTE = timedelta(minutes=1)


def reference_fires(case: CronCase, tz: str, lo: datetime, hi: datetime) -> list[datetime]:
    """Brute force over every real minute: the README's DST rule, applied literally."""
    zone = ZoneInfo(tz)
    # Debian's wild job: the minute or hour field *text* starts with "*" (entry.c).
    minute, hour = case.expr.split()[:2]
    frequent = minute.startswith("*") or hour.startswith("*")
    start = lo.replace(second=0, microsecond=0) - timedelta(hours=4)  # see earlier passes
    fires: set[datetime] = set()
    seen_walls: set[datetime] = set()
    previous_wall = None
    instant = start
    while instant <= hi:
        wall = instant.astimezone(zone).replace(tzinfo=None)
        if frequent:
            if matches(case, wall):  # real-time pattern: every pass fires
                fires.add(instant)
        else:
            if matches(case, wall) and wall not in seen_walls:  # first pass only
                fires.add(instant)
            skipped = previous_wall + MINUTE if previous_wall else wall
            while skipped < wall:  # wall times in a gap fire at the jump
                if matches(case, skipped):
                    fires.add(instant)
                skipped += MINUTE
        seen_walls.add(wall)
        previous_wall = wall
        instant += MINUTE
    return sorted(f for f in fires if lo < f <= hi)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=cron_cases(with_seconds=False),
    transition=st.sampled_from(TRANSITIONS),
    lead=st.integers(0, 4 * 3600),
)
def test_cron_around_dst_transitions_matches_a_brute_force_reference(case, transition, lead):
    tz, moment = transition
    lo = moment - timedelta(seconds=lead)
    hi = lo + timedelta(hours=8)
    expected = reference_fires(case, tz, lo, hi)
    wanted = min(len(expected), 40)
    got = next_fires(ScheduleSpec("cron", tz, cron=case.expr), lo, wanted + 1)
    assert got[:wanted] == expected[:wanted]
    if len(expected) <= 40 and len(got) > wanted:
        assert got[wanted] > hi


# --------------------------------------------------------------------------- intervals

fixed_units = st.sampled_from([("seconds", 1), ("minutes", 60), ("hours", 3600)])


@PROPERTY_SETTINGS
@given(
    unit=fixed_units,
    every=st.integers(1, 500),
    start=any_instant,
    after=any_instant,
    tz=st.sampled_from(ZONES),
)
def test_fixed_interval_fires_are_exactly_start_plus_k_steps(unit, every, start, after, tz):
    name, seconds = unit
    step = timedelta(seconds=every * seconds)
    spec = ScheduleSpec("interval", tz, every=every, unit=name, anchor=start)
    fires = next_fires(spec, after, 3)
    assert len(fires) == 3
    for fire in fires:
        k, rest = divmod(fire - start, step)
        assert rest == timedelta(0) and k >= 0
    assert fires[0] > after
    assert fires[0] == start or fires[0] - step <= after
    assert fires[1] - fires[0] == step and fires[2] - fires[1] == step


@PROPERTY_SETTINGS
@given(
    unit=st.sampled_from(["days", "weeks", "months", "years"]),
    every=st.integers(1, 40),
    start=instants,
    after=instants,
)
def test_calendar_interval_in_utc_keeps_time_and_clamped_day(unit, every, start, after):
    spec = ScheduleSpec("interval", "UTC", every=every, unit=unit, starts_at=start)
    fires = next_fires(spec, after, 3)
    assert fires[0] > after
    assert all(a < b for a, b in itertools.pairwise(fires))
    for fire in fires:
        assert fire.time() == start.time()
        if unit in ("days", "weeks"):
            step_days = every * (7 if unit == "weeks" else 1)
            assert (fire - start).days % step_days == 0
        else:
            months = (fire.year - start.year) * 12 + fire.month - start.month
            assert months % (every * (12 if unit == "years" else 1)) == 0
            last_day = calendar.monthrange(fire.year, fire.month)[1]
            assert fire.day == min(start.day, last_day)
    # The firing before the first one is not after `after` (nothing was skipped).
    if fires[0] != start:
        assert next_fire_after(spec, fires[0] - TINY) == fires[0]


@PROPERTY_SETTINGS
@given(
    unit=st.sampled_from(["days", "weeks", "months"]),
    every=st.integers(1, 3),
    tz=st.sampled_from(ZONES),
    start=any_instant,
    after=any_instant,
)
def test_calendar_interval_fires_increase_and_are_reproducible(unit, every, tz, start, after):
    spec = ScheduleSpec("interval", tz, every=every, unit=unit, anchor=start)
    fires = next_fires(spec, after, 4)
    assert fires[0] > after
    assert all(a < b for a, b in itertools.pairwise(fires))
    for fire in fires:
        assert next_fire_after(spec, fire - TINY) == fire


# --------------------------------------------------------------------------- bounds


@PROPERTY_SETTINGS
@given(
    every=st.integers(1, 90),
    start=instants,
    length=st.integers(1, 3 * 86400),
    after=instants,
)
def test_window_fires_stay_inside_the_window(every, start, length, after):
    end = start + timedelta(seconds=length)
    spec = ScheduleSpec("window", "UTC", every=every, unit="minutes", starts_at=start, ends_at=end)
    fires = next_fires(spec, after, 5)
    assert all(start <= f <= end and f > after for f in fires)
    if after < start:
        assert fires[0] == start
