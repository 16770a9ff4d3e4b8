"""Validation, cron, intervals, once, windows and describe() for hookboard.domain.schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from hookboard.domain.limits import INTERVAL_UNITS as UNITS
from hookboard.domain.limits import SCHEDULE_KINDS as KINDS
from hookboard.domain.schedules import (
    ScheduleSpec,
    ScheduleSpecError,
    describe,
    intervals,
    is_wild_cron,
    next_fire_after,
    next_fires,
    validate,
)

BERLIN = ZoneInfo("Europe/Berlin")
PARIS = ZoneInfo("Europe/Paris")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cron(expr: str, tz: str = "UTC", **kw: object) -> ScheduleSpec:
    return ScheduleSpec("cron", tz, cron=expr, **kw)


def interval(every: int, unit: str, start: datetime, tz: str = "UTC", **kw: object) -> ScheduleSpec:
    return ScheduleSpec("interval", tz, every=every, unit=unit, starts_at=start, **kw)


def fires(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    return next_fires(spec, after, count)


def assert_invalid(spec: ScheduleSpec, field: str, reason_part: str) -> ScheduleSpecError:
    with pytest.raises(ScheduleSpecError) as info:
        validate(spec)
    assert info.value.field == field
    assert reason_part in info.value.reason
    return info.value


# --------------------------------------------------------------------------- the error type


def test_error_carries_field_and_reason_and_formats_both():
    error = ScheduleSpecError("cron", "bad thing")
    assert (error.field, error.reason) == ("cron", "bad thing")
    assert str(error) == "cron: bad thing"
    assert isinstance(error, ValueError)


def test_public_constants():
    assert UNITS == ("seconds", "minutes", "hours", "days", "weeks", "months", "years")
    assert KINDS == ("cron", "interval", "once", "window")


# --------------------------------------------------------------------------- validation


def test_unknown_kind():
    assert_invalid(ScheduleSpec("sometimes"), "kind", "unknown kind 'sometimes'")


def test_unknown_time_zone_names_it():
    error = assert_invalid(cron("* * * * *", "Mars/Base"), "timezone", "unknown time zone")
    assert error.reason == "unknown time zone 'Mars/Base'"


@pytest.mark.parametrize("tz", ["", "/etc/passwd", "../Europe/Berlin", "Europe/"])
def test_odd_time_zone_keys_are_rejected(tz):
    assert_invalid(cron("* * * * *", tz), "timezone", "unknown time zone")


@pytest.mark.parametrize(
    "tz", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]
)
def test_known_time_zones_are_accepted(tz):
    validate(cron("0 9 * * *", tz))


@pytest.mark.parametrize("field", ["run_at", "starts_at", "ends_at", "anchor"])
def test_naive_datetimes_are_rejected_naming_the_field(field):
    fields = {"run_at": utc(2026, 1, 1), field: datetime(2026, 1, 1)}
    spec = ScheduleSpec("once", **fields)
    assert_invalid(spec, field, "timezone-aware")


def test_naive_after_is_rejected():
    with pytest.raises(ScheduleSpecError) as info:
        next_fire_after(cron("* * * * *"), datetime(2026, 1, 1))
    assert info.value.field == "after"
    with pytest.raises(ScheduleSpecError):
        next_fires(cron("* * * * *"), datetime(2026, 1, 1), 3)


def test_non_datetime_value_is_rejected():
    assert_invalid(ScheduleSpec("once", run_at="2026-01-01"), "run_at", "must be a datetime")


def test_cron_kind_needs_an_expression():
    assert_invalid(ScheduleSpec("cron"), "cron", "needs a cron expression")
    assert_invalid(cron("   "), "cron", "empty")
    assert_invalid(ScheduleSpec("cron", cron=["0", "2", "*", "*", "*"]), "cron", "must be a string")


def test_time_zone_must_be_a_name():
    assert_invalid(ScheduleSpec("cron", ["UTC"], cron="* * * * *"), "timezone", "zone name")


@pytest.mark.parametrize(
    ("expr", "reason_part"),
    [
        ("@reboot", "@reboot is not supported"),
        ("@fortnightly", "unknown macro '@fortnightly'"),
        ("* * * *", "got 4"),
        ("* * * * * * *", "got 7"),
        ("0 0 1 1 * 0 2030", "got 7"),
        ("61 * * * *", "minute field '61' is out of range (allowed: 0-59)"),
        ("0 24 * * *", "hour field '24' is out of range"),
        ("0 0 32 * *", "day-of-month field '32' is out of range"),
        ("0 0 * 13 *", "month field '13' is out of range"),
        ("0 0 * * 8", "day-of-week field '8' is out of range"),
        ("0 0 * * * 60", "second field '60' is out of range"),
        ("x * * * *", "minute field 'x' is not valid"),
        ("0 0 * * 1#6", "day-of-week field '1#6' is not valid"),
        ("*/0 * * * *", "minute field '*/0' is not valid"),
        ("H 2 * * *", "hashed (H) and random (R) values are not supported"),
        ("0 R * * *", "hashed (H) and random (R)"),
        ("0 0 30 2 *", "can never occur"),
    ],
)
def test_invalid_cron_expressions_get_a_reason(expr, reason_part):
    assert_invalid(cron(expr), "cron", reason_part)


def test_cron_reasons_do_not_echo_croniter_brackets():
    error = assert_invalid(cron("0 0 30 2 *"), "cron", "never")
    assert not error.reason.startswith("[")
    assert "is not acceptable" not in error.reason


@pytest.mark.parametrize(
    "expr",
    [
        "0 0 * * MON-FRI",
        "0 0 1 JAN *",
        "0 0 L * *",
        "0 0 15W * *",
        "0 0 * * 5#3",
        "0 0 * * L5",
        "0 0 ? * 1",
        "0 0 * * 7",
        "@Daily",
        "  */5 * * * *  ",
    ],
)
def test_valid_cron_expressions(expr):
    validate(cron(expr))


@pytest.mark.parametrize(
    ("every", "reason_part"),
    [
        (None, "need every"),
        (0, "at least 1"),
        (-5, "at least 1"),
        (1.5, "whole number"),
        ("5", "whole number"),
        (True, "whole number"),
    ],
)
def test_every_must_be_a_positive_int(every, reason_part):
    spec = ScheduleSpec("interval", every=every, unit="minutes", anchor=utc(2026, 1, 1))
    assert_invalid(spec, "every", reason_part)


@pytest.mark.parametrize(
    ("unit", "largest"),
    [
        ("seconds", 36525 * 86400),
        ("minutes", 36525 * 1440),
        ("hours", 36525 * 24),
        ("days", 36525),
        ("weeks", 5217),
        ("months", 1200),
        ("years", 100),
    ],
)
def test_step_may_not_exceed_100_years(unit, largest):
    validate(ScheduleSpec("interval", every=largest, unit=unit, anchor=utc(2026, 1, 1)))
    too_long = ScheduleSpec("interval", every=largest + 1, unit=unit, anchor=utc(2026, 1, 1))
    assert_invalid(too_long, "every", "longer than 100 years")


def test_unit_is_required_and_known():
    assert_invalid(ScheduleSpec("interval", every=1, anchor=utc(2026, 1, 1)), "unit", "need unit")
    spec = ScheduleSpec("interval", every=1, unit="fortnights", anchor=utc(2026, 1, 1))
    assert_invalid(spec, "unit", "unknown unit 'fortnights'")


def test_interval_needs_starts_at_or_anchor():
    assert_invalid(ScheduleSpec("interval", every=1, unit="hours"), "starts_at", "or an anchor")
    validate(ScheduleSpec("interval", every=1, unit="hours", anchor=utc(2026, 1, 1)))
    validate(ScheduleSpec("interval", every=1, unit="hours", starts_at=utc(2026, 1, 1)))


def test_once_needs_run_at():
    assert_invalid(ScheduleSpec("once"), "run_at", "needs run_at")


def test_window_needs_every_unit_and_both_bounds():
    start, end = utc(2026, 1, 1), utc(2026, 1, 2)
    assert_invalid(ScheduleSpec("window", unit="hours", starts_at=start, ends_at=end), "every", "")
    assert_invalid(ScheduleSpec("window", every=1, starts_at=start, ends_at=end), "unit", "")
    no_start = ScheduleSpec("window", every=1, unit="hours", ends_at=end, anchor=start)
    assert_invalid(no_start, "starts_at", "needs starts_at")
    no_end = ScheduleSpec("window", every=1, unit="hours", starts_at=start)
    assert_invalid(no_end, "ends_at", "needs ends_at")
    validate(ScheduleSpec("window", every=1, unit="hours", starts_at=start, ends_at=end))


@pytest.mark.parametrize("end", [utc(2026, 1, 1), utc(2025, 12, 31)])
def test_ends_at_must_be_after_starts_at(end):
    spec = cron("* * * * *", starts_at=utc(2026, 1, 1), ends_at=end)
    assert_invalid(spec, "ends_at", "must be after starts_at")


def test_bounds_are_compared_as_instants_across_zones():
    # 10:00+02:00 is 08:00Z, which is after 09:00+00:00? No: 08:00Z is before 09:00Z.
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    end = datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert_invalid(cron("* * * * *", starts_at=start, ends_at=end), "ends_at", "after starts_at")


def test_fields_of_other_kinds_are_ignored():
    validate(ScheduleSpec("cron", cron="0 9 * * *", every=-3, unit="aeons"))
    validate(ScheduleSpec("once", run_at=utc(2026, 1, 1), cron="not cron at all"))
    validate(ScheduleSpec("interval", every=1, unit="days", anchor=utc(2026, 1, 1), cron="@reboot"))


def test_next_fire_after_validates_the_spec():
    with pytest.raises(ScheduleSpecError) as info:
        next_fire_after(cron("99 * * * *"), utc(2026, 1, 1))
    assert info.value.field == "cron"


# --------------------------------------------------------------------------- cron basics


def test_daily_cron_fires_at_the_time_strictly_after():
    spec = cron("0 2 * * *")
    assert next_fire_after(spec, utc(2026, 1, 1)) == utc(2026, 1, 1, 2)
    assert next_fire_after(spec, utc(2026, 1, 1, 2)) == utc(2026, 1, 2, 2)
    assert next_fire_after(spec, utc(2026, 1, 1, 1, 59, 59, 999999)) == utc(2026, 1, 1, 2)


def test_output_is_utc_even_when_after_is_in_another_zone():
    after = datetime(2026, 6, 1, 12, tzinfo=BERLIN)  # 10:00Z
    fire = next_fire_after(cron("30 * * * *"), after)
    assert fire == utc(2026, 6, 1, 10, 30)
    assert fire.tzinfo is UTC


def test_cron_is_evaluated_in_the_schedule_zone():
    # 09:00 in Berlin is 08:00Z in winter and 07:00Z in summer.
    assert next_fire_after(cron("0 9 * * *", "Europe/Berlin"), utc(2026, 1, 5)) == utc(
        2026, 1, 5, 8
    )
    assert next_fire_after(cron("0 9 * * *", "Europe/Berlin"), utc(2026, 7, 5)) == utc(
        2026, 7, 5, 7
    )
    assert next_fire_after(cron("0 9 * * *", "Asia/Kolkata"), utc(2026, 7, 5)) == utc(
        2026, 7, 5, 3, 30
    )


def test_step_list_and_range_fields():
    assert fires(cron("*/20 * * * *"), utc(2026, 1, 1), 4) == [
        utc(2026, 1, 1, 0, 20),
        utc(2026, 1, 1, 0, 40),
        utc(2026, 1, 1, 1, 0),
        utc(2026, 1, 1, 1, 20),
    ]
    assert fires(cron("5 8,17 * * *"), utc(2026, 1, 1), 3) == [
        utc(2026, 1, 1, 8, 5),
        utc(2026, 1, 1, 17, 5),
        utc(2026, 1, 2, 8, 5),
    ]
    # 2026-01-01 is a Thursday: Mon-Fri skips the weekend of the 3rd and 4th.
    assert fires(cron("0 9 * * MON-FRI"), utc(2026, 1, 1, 10), 3) == [
        utc(2026, 1, 2, 9),
        utc(2026, 1, 5, 9),
        utc(2026, 1, 6, 9),
    ]


def test_day_of_month_and_day_of_week_are_ored_like_vixie_cron():
    # The 13th, or any Friday: Fri 2 Jan, Fri 9 Jan, Tue 13 Jan, Fri 16 Jan.
    assert fires(cron("0 0 13 * 5"), utc(2026, 1, 1), 4) == [
        utc(2026, 1, 2),
        utc(2026, 1, 9),
        utc(2026, 1, 13),
        utc(2026, 1, 16),
    ]


def test_equal_ranges_mean_one_value_as_in_cron():
    # croniter alone would read "0-0" and "MON-MON" as the whole field.
    assert fires(cron("0-0 9 * * *"), utc(2026, 1, 1), 2) == [
        utc(2026, 1, 1, 9),
        utc(2026, 1, 2, 9),
    ]
    assert fires(cron("0 9 * * MON-MON"), utc(2026, 1, 1), 2) == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 12, 9),
    ]
    assert fires(cron("0 9 * * 1-1/2,3"), utc(2026, 1, 1), 2) == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 7, 9),
    ]
    assert not is_wild_cron("0-0 9 * * *")


def test_sunday_is_0_and_7():
    assert next_fire_after(cron("0 0 * * 0"), utc(2026, 1, 1)) == utc(2026, 1, 4)
    assert next_fire_after(cron("0 0 * * 7"), utc(2026, 1, 1)) == utc(2026, 1, 4)


def test_leap_day_cron_waits_for_a_leap_year():
    assert next_fire_after(cron("0 0 29 2 *"), utc(2026, 1, 1)) == utc(2028, 2, 29)


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", utc(2026, 3, 10, 11)),
        ("@daily", utc(2026, 3, 11)),
        ("@midnight", utc(2026, 3, 11)),
        ("@weekly", utc(2026, 3, 15)),  # next Sunday
        ("@monthly", utc(2026, 4, 1)),
        ("@yearly", utc(2027, 1, 1)),
        ("@annually", utc(2027, 1, 1)),
        ("@DAILY", utc(2026, 3, 11)),
    ],
)
def test_macros(macro, expected):
    assert next_fire_after(cron(macro), utc(2026, 3, 10, 10, 30)) == expected


def test_last_day_of_month():
    assert fires(cron("0 9 L * *"), utc(2026, 1, 1), 3) == [
        utc(2026, 1, 31, 9),
        utc(2026, 2, 28, 9),
        utc(2026, 3, 31, 9),
    ]


def test_nearest_weekday():
    # 15 Feb 2026 is a Sunday -> Monday 16th; 15 Aug 2026 is a Saturday -> Friday 14th.
    assert next_fire_after(cron("0 9 15W * *"), utc(2026, 2, 1)) == utc(2026, 2, 16, 9)
    assert next_fire_after(cron("0 9 15W * *"), utc(2026, 8, 1)) == utc(2026, 8, 14, 9)
    assert next_fire_after(cron("0 9 15W * *"), utc(2026, 1, 1)) == utc(2026, 1, 15, 9)


def test_nth_weekday_of_month():
    assert fires(cron("0 9 * * 5#3"), utc(2026, 1, 1), 2) == [
        utc(2026, 1, 16, 9),
        utc(2026, 2, 20, 9),
    ]


def test_last_weekday_of_month():
    assert fires(cron("0 9 * * L5"), utc(2026, 1, 1), 2) == [
        utc(2026, 1, 30, 9),
        utc(2026, 2, 27, 9),
    ]


def test_sixth_field_is_seconds_and_comes_last():
    assert fires(cron("* * * * * */10"), utc(2026, 1, 1), 3) == [
        utc(2026, 1, 1, 0, 0, 10),
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 30),
    ]
    assert next_fire_after(cron("30 9 * * * 15"), utc(2026, 1, 1)) == utc(2026, 1, 1, 9, 30, 15)
    # Not Quartz order: "15 30 9 * * *" is minute 15, hour 30 -> invalid hour.
    assert_invalid(cron("15 30 9 * * *"), "cron", "hour field '30'")


def test_seconds_are_respected_with_sub_second_after():
    spec = cron("* * * * * *")
    assert next_fire_after(spec, utc(2026, 1, 1, 0, 0, 0) + timedelta(microseconds=500)) == utc(
        2026, 1, 1, 0, 0, 1
    )


def test_cron_returns_none_past_the_end_of_time():
    assert next_fire_after(cron("0 0 1 1 *"), utc(9999, 6, 1)) is None


@pytest.mark.parametrize(
    ("expr", "wild"),
    [
        ("0 2 * * *", False),
        ("30 9 * * 1-5", False),
        ("0 9-17 * * *", False),
        ("0 */2 * * *", True),  # Debian: the hour text starts with "*"
        ("0 0 1 * *", False),
        ("30 9 * * * 15", False),
        ("@daily", False),
        ("@weekly", False),
        ("0 * * * *", True),
        ("@hourly", True),
        ("0 0-23 * * *", False),  # every hour, but not written with "*"
        ("0 */1 * * *", True),
        ("*/15 * * * *", True),
        ("0,30 2 * * *", False),
        ("* 2 * * *", True),
        ("0 2 * * * */10", True),
        ("0 2 * * * 0,30", False),
        ("*/5 2 * * *", True),
        ("0-10/5 2 * * *", False),
        ("15,45 1-3 * * *", False),
    ],
)
def test_is_wild_cron(expr, wild):
    assert is_wild_cron(expr) is wild


def test_is_wild_cron_rejects_bad_expressions():
    with pytest.raises(ScheduleSpecError):
        is_wild_cron("not a cron")


# --------------------------------------------------------------------------- intervals


def test_fixed_interval_first_fires_at_the_start():
    spec = interval(15, "minutes", utc(2026, 1, 1, 9))
    assert next_fire_after(spec, utc(2025, 1, 1)) == utc(2026, 1, 1, 9)
    assert next_fire_after(spec, utc(2026, 1, 1, 9)) == utc(2026, 1, 1, 9, 15)


def test_fixed_interval_is_anchored_without_drift():
    start = utc(2026, 1, 1, 0, 0, 7, 250000)
    spec = interval(7, "seconds", start)
    # Querying from arbitrary, off-grid instants always lands on start + k*7s.
    after = utc(2026, 5, 17, 13, 2, 9, 1)
    fire = next_fire_after(spec, after)
    assert (fire - start) % timedelta(seconds=7) == timedelta(0)
    assert timedelta(0) < fire - after <= timedelta(seconds=7)
    assert fires(spec, fire, 3) == [fire + k * timedelta(seconds=7) for k in (1, 2, 3)]


def test_fixed_interval_uses_anchor_when_no_starts_at():
    spec = ScheduleSpec("interval", every=2, unit="hours", anchor=utc(2026, 1, 1, 0, 30))
    assert next_fire_after(spec, utc(2026, 3, 1, 1)) == utc(2026, 3, 1, 2, 30)


def test_starts_at_wins_over_anchor():
    spec = interval(2, "hours", utc(2026, 1, 1, 1), anchor=utc(2026, 1, 1, 0, 30))
    assert next_fire_after(spec, utc(2026, 3, 1, 1, 30)) == utc(2026, 3, 1, 3)


def test_fixed_interval_is_fast_from_a_start_long_ago():
    spec = ScheduleSpec("interval", every=1, unit="seconds", anchor=utc(1900, 1, 1))
    after = utc(2026, 5, 5, 1, 2, 3, 400000)
    assert next_fire_after(spec, after) == utc(2026, 5, 5, 1, 2, 4)
    assert next_fire_after(spec, utc(2026, 5, 5, 1, 2, 3)) == utc(2026, 5, 5, 1, 2, 4)


def test_fixed_interval_hours_are_real_hours():
    spec = interval(5, "hours", utc(2026, 1, 1))
    assert fires(spec, utc(2026, 1, 1), 5) == [utc(2026, 1, 1, h) for h in (5, 10, 15, 20)] + [
        utc(2026, 1, 2, 1)
    ]


def test_calendar_interval_computes_k_without_walking_from_the_start(monkeypatch):
    calls = 0
    real_step = intervals._calendar_step

    def counting_step(*args):
        nonlocal calls
        calls += 1
        return real_step(*args)

    monkeypatch.setattr(intervals, "_calendar_step", counting_step)
    spec = interval(1, "days", datetime(1950, 1, 1, 9, tzinfo=BERLIN), "Europe/Berlin")
    assert next_fire_after(spec, utc(2026, 5, 5, 12)) == utc(2026, 5, 6, 7)
    assert calls <= 6


def test_monthly_from_the_31st_clamps_without_drifting():
    spec = interval(1, "months", utc(2026, 1, 31, 9))
    assert fires(spec, utc(2026, 1, 1), 6) == [
        utc(2026, 1, 31, 9),
        utc(2026, 2, 28, 9),
        utc(2026, 3, 31, 9),
        utc(2026, 4, 30, 9),
        utc(2026, 5, 31, 9),
        utc(2026, 6, 30, 9),
    ]


def test_monthly_from_the_31st_in_a_leap_year():
    spec = interval(1, "months", utc(2028, 1, 31))
    assert next_fire_after(spec, utc(2028, 2, 1)) == utc(2028, 2, 29)
    assert next_fire_after(spec, utc(2028, 3, 1)) == utc(2028, 3, 31)


def test_monthly_lookup_far_away_still_lands_on_the_clamped_day():
    spec = interval(1, "months", utc(2000, 1, 31, 12))
    assert next_fire_after(spec, utc(2030, 4, 2)) == utc(2030, 4, 30, 12)
    assert next_fire_after(spec, utc(2030, 4, 30, 12)) == utc(2030, 5, 31, 12)


def test_every_three_months():
    spec = interval(3, "months", utc(2025, 11, 30, 6))
    assert fires(spec, utc(2025, 12, 1), 3) == [
        utc(2026, 2, 28, 6),
        utc(2026, 5, 30, 6),
        utc(2026, 8, 30, 6),
    ]


def test_yearly_from_a_leap_day():
    spec = interval(1, "years", utc(2024, 2, 29, 8))
    assert fires(spec, utc(2024, 3, 1), 5) == [
        utc(2025, 2, 28, 8),
        utc(2026, 2, 28, 8),
        utc(2027, 2, 28, 8),
        utc(2028, 2, 29, 8),
        utc(2029, 2, 28, 8),
    ]


def test_weekly_and_daily_steps():
    monday = utc(2026, 1, 5, 7, 45)
    assert fires(interval(2, "weeks", monday), utc(2026, 1, 6), 2) == [
        utc(2026, 1, 19, 7, 45),
        utc(2026, 2, 2, 7, 45),
    ]
    assert fires(interval(3, "days", monday), utc(2026, 1, 5, 7, 45), 2) == [
        utc(2026, 1, 8, 7, 45),
        utc(2026, 1, 11, 7, 45),
    ]


def test_calendar_interval_gives_up_past_year_9999():
    spec = interval(1, "years", utc(9998, 6, 1))
    assert next_fire_after(spec, utc(9999, 7, 1)) is None


def test_fixed_interval_gives_up_past_year_9999():
    spec = interval(100, "years", utc(9990, 1, 1))
    assert next_fire_after(spec, utc(9991, 1, 1)) is None
    assert next_fire_after(interval(36525, "days", utc(9990, 1, 1)), utc(9991, 1, 1)) is None
    hourly = interval(876000, "hours", utc(9990, 1, 1))
    assert next_fire_after(hourly, utc(9991, 1, 1)) is None


# --------------------------------------------------------------------------- once


def test_once_fires_once_then_completes():
    run_at = datetime(2026, 12, 1, 9, tzinfo=PARIS)
    spec = ScheduleSpec("once", "Europe/Paris", run_at=run_at)
    assert next_fire_after(spec, utc(2026, 1, 1)) == utc(2026, 12, 1, 8)
    assert next_fire_after(spec, utc(2026, 12, 1, 8)) is None
    assert next_fire_after(spec, utc(2027, 1, 1)) is None
    assert fires(spec, utc(2026, 1, 1), 5) == [utc(2026, 12, 1, 8)]


# --------------------------------------------------------------------------- windows and bounds


def window(every: int, unit: str, start: datetime, end: datetime, tz: str = "UTC") -> ScheduleSpec:
    return ScheduleSpec("window", tz, every=every, unit=unit, starts_at=start, ends_at=end)


def test_window_fires_from_start_through_end_inclusive():
    spec = window(2, "hours", utc(2026, 12, 1, 8), utc(2026, 12, 1, 16))
    assert fires(spec, utc(2026, 1, 1), 10) == [utc(2026, 12, 1, h) for h in (8, 10, 12, 14, 16)]


def test_window_end_between_firings():
    spec = window(2, "hours", utc(2026, 12, 1, 8), utc(2026, 12, 1, 15, 59))
    assert fires(spec, utc(2026, 1, 1), 10)[-1] == utc(2026, 12, 1, 14)
    assert next_fire_after(spec, utc(2026, 12, 1, 14)) is None


def test_window_with_calendar_steps():
    spec = window(1, "days", utc(2026, 1, 30, 9), utc(2026, 2, 2, 9))
    assert fires(spec, utc(2026, 1, 1), 10) == [utc(2026, 1, d, 9) for d in (30, 31)] + [
        utc(2026, 2, 1, 9),
        utc(2026, 2, 2, 9),
    ]


def test_cron_respects_starts_at_and_ends_at():
    spec = cron("0 * * * *", starts_at=utc(2026, 1, 1, 10), ends_at=utc(2026, 1, 1, 12))
    assert fires(spec, utc(2025, 1, 1), 10) == [utc(2026, 1, 1, h) for h in (10, 11, 12)]


def test_cron_starts_at_between_firings():
    spec = cron("0 * * * *", starts_at=utc(2026, 1, 1, 10, 1))
    assert next_fire_after(spec, utc(2025, 1, 1)) == utc(2026, 1, 1, 11)


def test_interval_with_ends_at_completes():
    spec = interval(1, "days", utc(2026, 1, 1), ends_at=utc(2026, 1, 3))
    assert fires(spec, utc(2025, 1, 1), 10) == [utc(2026, 1, 1), utc(2026, 1, 2), utc(2026, 1, 3)]


def test_once_outside_its_bounds_never_fires():
    early = ScheduleSpec("once", run_at=utc(2026, 1, 1), starts_at=utc(2026, 2, 1))
    late = ScheduleSpec("once", run_at=utc(2026, 3, 1), ends_at=utc(2026, 2, 1))
    assert next_fire_after(early, utc(2025, 1, 1)) is None
    assert next_fire_after(late, utc(2025, 1, 1)) is None


# --------------------------------------------------------------------------- next_fires


def test_next_fires_counts():
    spec = cron("0 0 * * *")
    assert fires(spec, utc(2026, 1, 1), 0) == []
    assert fires(spec, utc(2026, 1, 1), 3) == [utc(2026, 1, 2), utc(2026, 1, 3), utc(2026, 1, 4)]
    with pytest.raises(ValueError):
        fires(spec, utc(2026, 1, 1), -1)


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (cron("0 2 * * *", "Europe/Berlin"), "At 02:00, every day, Europe/Berlin"),
        (cron("@daily"), "At 00:00, every day, UTC"),
        (cron("*/15 * * * *"), "Every 15 minutes, UTC"),
        (
            cron("0 17 * * 1-5", "America/New_York"),
            "At 17:00, Monday through Friday, America/New_York",
        ),
        (cron("0 9 L * *"), "At 09:00, on the last day of the month, UTC"),
        (cron("0 9 15W * *"), "At 09:00, on the weekday nearest day 15 of the month, UTC"),
        (cron("0 9 * * 5#3"), "At 09:00, on the third Friday of the month, UTC"),
        (cron("0 9 * * L5"), "At 09:00, on the last Friday of the month, UTC"),
        (cron("* * * * * */10"), "Every 10 seconds, UTC"),
        (cron("30 9 * * * 15"), "At 09:30:15, every day, UTC"),
        (
            ScheduleSpec("interval", every=15, unit="minutes", anchor=utc(2026, 1, 1)),
            "Every 15 minutes",
        ),
        (ScheduleSpec("interval", every=1, unit="hours", anchor=utc(2026, 1, 1)), "Every hour"),
        (ScheduleSpec("interval", every=1, unit="seconds", anchor=utc(2026, 1, 1)), "Every second"),
        (
            ScheduleSpec(
                "interval", "Europe/Berlin", every=1, unit="days", anchor=utc(2026, 1, 1, 8)
            ),
            "Every day at 09:00 Europe/Berlin",
        ),
        (
            ScheduleSpec(
                "interval", "Europe/Berlin", every=2, unit="weeks", anchor=utc(2026, 1, 5, 8)
            ),
            "Every 2 weeks on Monday at 09:00 Europe/Berlin",
        ),
        (
            ScheduleSpec("interval", every=1, unit="months", anchor=utc(2026, 1, 31, 9)),
            "Every month on day 31 (or the month's last day) at 09:00 UTC",
        ),
        (
            ScheduleSpec("interval", every=1, unit="years", anchor=utc(2024, 2, 29, 9)),
            "Every year on 29 February (28 February in other years) at 09:00 UTC",
        ),
        (
            ScheduleSpec("once", "Europe/Paris", run_at=datetime(2026, 12, 1, 9, tzinfo=PARIS)),
            "Once at 2026-12-01 09:00 Europe/Paris",
        ),
        (
            ScheduleSpec("once", run_at=utc(2026, 12, 1, 9, 0, 30)),
            "Once at 2026-12-01 09:00:30 UTC",
        ),
        (
            window(
                15,
                "minutes",
                datetime(2026, 12, 1, 9, tzinfo=PARIS),
                datetime(2026, 12, 1, 17, tzinfo=PARIS),
                "Europe/Paris",
            ),
            "Every 15 minutes between 2026-12-01 09:00 and 2026-12-01 17:00 Europe/Paris",
        ),
        (
            cron("0 2 * * *", starts_at=utc(2026, 1, 1), ends_at=utc(2026, 2, 1)),
            "At 02:00, every day, UTC, between 2026-01-01 00:00 and 2026-02-01 00:00 UTC",
        ),
        (
            cron("0 2 * * *", starts_at=utc(2026, 1, 1)),
            "At 02:00, every day, UTC, from 2026-01-01 00:00 UTC",
        ),
        (
            cron("0 2 * * *", ends_at=utc(2026, 2, 1)),
            "At 02:00, every day, UTC, until 2026-02-01 00:00 UTC",
        ),
    ],
)
def test_describe(spec, text):
    assert describe(spec) == text


def test_describe_rejects_invalid_specs():
    with pytest.raises(ScheduleSpecError):
        describe(cron("@reboot"))
