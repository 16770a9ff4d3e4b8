"""DST behaviour of hookboard.domain.schedules, in both directions and several zones.

Transitions used (2026 unless noted), as tzdata has them:

* Europe/Berlin: 29 Mar 02:00 CET -> 03:00 CEST (01:00Z); 25 Oct 03:00 CEST -> 02:00 CET (01:00Z)
* America/New_York: 8 Mar 02:00 -> 03:00 EDT (07:00Z); 1 Nov 02:00 EDT -> 01:00 EST (06:00Z)
* Australia/Sydney: 5 Apr 03:00 AEDT -> 02:00 AEST (4 Apr 16:00Z);
  4 Oct 02:00 -> 03:00 AEDT (3 Oct 16:00Z)
* Australia/Lord_Howe (30-minute shift): 5 Apr 02:00 -> 01:30 (4 Apr 15:00Z);
  4 Oct 02:00 -> 02:30 (3 Oct 15:30Z)
* America/Santiago (midnight changes): 5 Apr 00:00 -> 4 Apr 23:00 (03:00Z);
  6 Sep 00:00 -> 01:00 (04:00Z)
* Pacific/Apia skipped the whole of 30 Dec 2011 (10:00Z on the 30th).
* Asia/Kolkata has no DST.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hookboard.domain.schedules import ScheduleSpec, next_fire_after, next_fires


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cron(expr: str, tz: str) -> ScheduleSpec:
    return ScheduleSpec("cron", tz, cron=expr)


def daily_from(local: datetime, tz: str, every: int = 1, unit: str = "days") -> ScheduleSpec:
    return ScheduleSpec("interval", tz, every=every, unit=unit, starts_at=local)


def local_times(fires: list[datetime], tz: str) -> list[str]:
    zone = ZoneInfo(tz)
    return [f"{f.astimezone(zone):%m-%d %H:%M%z}" for f in fires]


# --------------------------------------------------------------------------- fixed-time cron jobs


@pytest.mark.parametrize(
    ("tz", "expr", "after", "expected"),
    [
        # Berlin: 02:30 does not exist on 29 Mar; fire at the jump, 03:00 CEST.
        ("Europe/Berlin", "30 2 * * *", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
        ("Europe/Berlin", "0 2 * * *", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
        ("Europe/Berlin", "59 2 * * * 59", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
        ("America/New_York", "30 2 * * *", utc(2026, 3, 7, 12), utc(2026, 3, 8, 7)),
        ("Australia/Sydney", "30 2 * * *", utc(2026, 10, 3, 0), utc(2026, 10, 3, 16)),
        ("Australia/Lord_Howe", "15 2 * * *", utc(2026, 10, 3, 0), utc(2026, 10, 3, 15, 30)),
        # Santiago: midnight itself does not exist on 6 Sep; fire at 01:00 -03.
        ("America/Santiago", "0 0 * * *", utc(2026, 9, 5, 12), utc(2026, 9, 6, 4)),
    ],
)
def test_fixed_time_in_a_gap_fires_once_at_the_jump(tz, expr, after, expected):
    first = next_fire_after(cron(expr, tz), after)
    assert first == expected
    # ... and only once: the next firing is the regular one the next day.
    second = next_fire_after(cron(expr, tz), first)
    assert second.astimezone(ZoneInfo(tz)).date() > expected.astimezone(ZoneInfo(tz)).date()


def test_fixed_time_in_a_gap_keeps_its_wall_time_on_the_days_around_it():
    fires = next_fires(cron("30 2 * * *", "Europe/Berlin"), utc(2026, 3, 27), 3)
    assert local_times(fires, "Europe/Berlin") == [
        "03-27 02:30+0100",
        "03-28 02:30+0100",
        "03-29 03:00+0200",
    ]
    assert next_fire_after(cron("30 2 * * *", "Europe/Berlin"), fires[-1]) == utc(
        2026, 3, 30, 0, 30
    )


def test_several_skipped_wall_times_collapse_into_one_firing():
    # Samoa skipped 30 Dec 2011 entirely: 10:00 and 14:00 both fire once, at midnight of the 31st.
    spec = cron("0 10,14 * * *", "Pacific/Apia")
    fires = next_fires(spec, utc(2011, 12, 30, 1), 3)  # 15:00 on the 29th, local
    assert fires == [utc(2011, 12, 30, 10), utc(2011, 12, 30, 20), utc(2011, 12, 31, 0)]
    assert local_times(fires, "Pacific/Apia") == [
        "12-31 00:00+1400",
        "12-31 10:00+1400",
        "12-31 14:00+1400",
    ]


def test_fixed_time_just_before_the_jump_still_fires_at_the_jump():
    spec = cron("30 2 * * *", "Europe/Berlin")
    assert next_fire_after(spec, utc(2026, 3, 29, 0, 59, 59)) == utc(2026, 3, 29, 1)
    assert next_fire_after(spec, utc(2026, 3, 29, 1)) == utc(2026, 3, 30, 0, 30)


@pytest.mark.parametrize(
    ("tz", "expr", "after", "first_occurrence"),
    [
        ("Europe/Berlin", "30 2 * * *", utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
        ("America/New_York", "30 1 * * *", utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30)),
        ("Australia/Sydney", "30 2 * * *", utc(2026, 4, 4, 0), utc(2026, 4, 4, 15, 30)),
        ("Australia/Lord_Howe", "45 1 * * *", utc(2026, 4, 4, 0), utc(2026, 4, 4, 14, 45)),
        ("America/Santiago", "30 23 * * *", utc(2026, 4, 4, 12), utc(2026, 4, 5, 2, 30)),
    ],
)
def test_fixed_time_in_a_repeated_hour_fires_once_at_the_first_occurrence(
    tz, expr, after, first_occurrence
):
    spec = cron(expr, tz)
    assert next_fire_after(spec, after) == first_occurrence
    # The second occurrence (one offset change later) is skipped: the next firing is a day on.
    following = next_fire_after(spec, first_occurrence)
    assert following - first_occurrence > timedelta(hours=20)


def test_fixed_time_queried_from_inside_the_second_pass_waits_for_tomorrow():
    spec = cron("30 2 * * *", "Europe/Berlin")
    # 01:10Z is 02:10 CET, the second pass; 02:30 already fired at 00:30Z (CEST).
    assert next_fire_after(spec, utc(2026, 10, 25, 1, 10)) == utc(2026, 10, 26, 1, 30)
    # 00:10Z is 02:10 CEST, the first pass: 02:30 CEST is still ahead.
    assert next_fire_after(spec, utc(2026, 10, 25, 0, 10)) == utc(2026, 10, 25, 0, 30)


def test_hour_step_job_is_wild_as_in_debian():
    # "0 */2": the hour text starts with "*", so Debian runs it as a wild job: at
    # 02:00 in both passes of fall-back, and not at all in spring's missing 02:00.
    fall = next_fires(cron("0 */2 * * *", "Europe/Berlin"), utc(2026, 10, 24, 23, 30), 3)
    assert local_times(fall, "Europe/Berlin") == [
        "10-25 02:00+0200",
        "10-25 02:00+0100",
        "10-25 04:00+0100",
    ]
    spring = next_fires(cron("0 */2 * * *", "Europe/Berlin"), utc(2026, 3, 28, 23, 30), 2)
    assert local_times(spring, "Europe/Berlin") == ["03-29 04:00+0200", "03-29 06:00+0200"]


def test_a_list_of_minutes_is_fixed_time_as_in_debian():
    # "0,30 2" matches two minutes but is not wild: once per wall time in fall-back,
    # and both skipped times of spring collapse into one firing at the jump.
    fall = next_fires(cron("0,30 2 * * *", "Europe/Berlin"), utc(2026, 10, 24, 23, 30), 3)
    assert local_times(fall, "Europe/Berlin") == [
        "10-25 02:00+0200",
        "10-25 02:30+0200",
        "10-26 02:00+0100",
    ]
    spring = next_fires(cron("0,30 2 * * *", "Europe/Berlin"), utc(2026, 3, 28, 23, 30), 2)
    assert local_times(spring, "Europe/Berlin") == ["03-29 03:00+0200", "03-30 02:00+0200"]


# --------------------------------------------------------------------------- frequent cron jobs


def test_every_30_minutes_in_berlin_fall_back_fires_in_both_passes():
    fires = next_fires(cron("*/30 * * * *", "Europe/Berlin"), utc(2026, 10, 24, 23, 45), 5)
    assert local_times(fires, "Europe/Berlin") == [
        "10-25 02:00+0200",
        "10-25 02:30+0200",
        "10-25 02:00+0100",
        "10-25 02:30+0100",
        "10-25 03:00+0100",
    ]
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(fires))


def test_every_30_minutes_in_berlin_spring_forward_skips_the_gap():
    fires = next_fires(cron("*/30 * * * *", "Europe/Berlin"), utc(2026, 3, 29, 0), 3)
    assert fires == [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)]
    assert local_times(fires, "Europe/Berlin") == [
        "03-29 01:30+0100",
        "03-29 03:00+0200",
        "03-29 03:30+0200",
    ]


def test_hourly_in_new_york_fires_in_both_one_oclocks():
    fires = next_fires(cron("@hourly", "America/New_York"), utc(2026, 11, 1, 4, 30), 3)
    assert fires == [utc(2026, 11, 1, 5), utc(2026, 11, 1, 6), utc(2026, 11, 1, 7)]
    assert local_times(fires, "America/New_York") == [
        "11-01 01:00-0400",
        "11-01 01:00-0500",
        "11-01 02:00-0500",
    ]


def test_frequent_job_queried_from_first_pass_finds_the_second_pass():
    # 00:45Z is 02:45 CEST; the next half hour in real time is 02:00 CET (01:00Z), not 03:00.
    spec = cron("*/30 * * * *", "Europe/Berlin")
    assert next_fire_after(spec, utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1)


def test_wild_job_restricted_to_the_repeated_hour_fires_in_both_passes():
    fires = next_fires(cron("*/30 2 * * *", "Europe/Berlin"), utc(2026, 10, 24, 12), 5)
    assert local_times(fires, "Europe/Berlin") == [
        "10-25 02:00+0200",
        "10-25 02:30+0200",
        "10-25 02:00+0100",
        "10-25 02:30+0100",
        "10-26 02:00+0100",
    ]


def test_wild_job_restricted_to_the_skipped_hour_does_not_fire_that_day():
    fires = next_fires(cron("*/30 2 * * *", "Europe/Berlin"), utc(2026, 3, 28, 12), 2)
    assert local_times(fires, "Europe/Berlin") == ["03-30 02:00+0200", "03-30 02:30+0200"]


@pytest.mark.parametrize(
    ("tz", "around"),
    [
        ("Europe/Berlin", utc(2026, 3, 29, 1)),
        ("Europe/Berlin", utc(2026, 10, 25, 1)),
        ("America/New_York", utc(2026, 3, 8, 7)),
        ("America/New_York", utc(2026, 11, 1, 6)),
        ("Australia/Sydney", utc(2026, 4, 4, 16)),
        ("Australia/Sydney", utc(2026, 10, 3, 16)),
        ("Australia/Lord_Howe", utc(2026, 4, 4, 15)),
        ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)),
        ("America/Santiago", utc(2026, 4, 5, 3)),
        ("America/Santiago", utc(2026, 9, 6, 4)),
    ],
)
def test_every_15_minutes_keeps_a_real_time_rhythm_across_transitions(tz, around):
    fires = next_fires(cron("*/15 * * * *", tz), around - timedelta(hours=3), 24)
    assert fires[0] == around - timedelta(hours=2, minutes=45)
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(fires))


def test_every_minute_keeps_a_real_time_rhythm_in_lord_howe():
    # The 30-minute shift keeps whole minutes whole: one firing per real minute.
    fires = next_fires(cron("* * * * *", "Australia/Lord_Howe"), utc(2026, 10, 3, 15), 60)
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(fires))


def test_every_ten_seconds_across_the_jump():
    spec = cron("* * * * * */10", "Europe/Berlin")
    fires = next_fires(spec, utc(2026, 3, 29, 0, 59, 30), 6)
    assert fires == [utc(2026, 3, 29, 0, 59, s) for s in (40, 50)] + [
        utc(2026, 3, 29, 1, 0, s) for s in (0, 10, 20, 30)
    ]


def test_hourly_at_half_past_in_lord_howe_follows_wall_minutes():
    # Lord Howe jumps 02:00 -> 02:30, so 02:30 exists and fires right at the jump, only 30
    # real minutes after 01:30; each stretch of constant offset keeps the wall pattern.
    fires = next_fires(cron("30 * * * *", "Australia/Lord_Howe"), utc(2026, 10, 3, 14), 3)
    assert local_times(fires, "Australia/Lord_Howe") == [
        "10-04 01:30+1030",
        "10-04 02:30+1100",
        "10-04 03:30+1100",
    ]
    assert fires[1] - fires[0] == timedelta(minutes=30)


def test_kolkata_has_no_surprises():
    fires = next_fires(cron("30 2 * * *", "Asia/Kolkata"), utc(2026, 3, 1), 300)
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(fires))
    assert {f.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M") for f in fires} == {"02:30"}
    half_hourly = next_fires(cron("*/30 * * * *", "Asia/Kolkata"), utc(2026, 10, 24), 200)
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(half_hourly))


# --------------------------------------------------------------------------- calendar intervals


@pytest.mark.parametrize(
    ("tz", "start", "days"),
    [
        ("Europe/Berlin", datetime(2026, 3, 26, 9), 6),
        ("Europe/Berlin", datetime(2026, 10, 22, 9), 6),
        ("America/New_York", datetime(2026, 3, 5, 9), 6),
        ("America/New_York", datetime(2026, 10, 29, 9), 6),
        ("Australia/Sydney", datetime(2026, 4, 2, 9), 6),
        ("Australia/Sydney", datetime(2026, 10, 1, 9), 6),
        ("Australia/Lord_Howe", datetime(2026, 10, 1, 9), 6),
        ("America/Santiago", datetime(2026, 9, 3, 9), 6),
    ],
)
def test_daily_interval_keeps_the_local_time_of_day(tz, start, days):
    zone = ZoneInfo(tz)
    spec = daily_from(start.replace(tzinfo=zone), tz)
    fires = next_fires(spec, utc(2026, 1, 1), days)
    assert [f.astimezone(zone).replace(tzinfo=None) for f in fires] == [
        start + timedelta(days=d) for d in range(days)
    ]
    # ... which means one of the steps is not 24 real hours.
    assert {b - a for a, b in itertools.pairwise(fires)} != {timedelta(hours=24)}


def test_weekly_interval_keeps_the_local_time_of_day():
    zone = ZoneInfo("America/New_York")
    spec = daily_from(datetime(2026, 2, 23, 9, tzinfo=zone), "America/New_York", 1, "weeks")
    fires = next_fires(spec, utc(2026, 1, 1), 4)
    assert {f.astimezone(zone).strftime("%a %H:%M") for f in fires} == {"Mon 09:00"}
    assert fires[2] - fires[1] == timedelta(days=7, hours=-1)


def test_daily_interval_in_a_gap_fires_at_the_jump_then_returns_to_its_time():
    zone = ZoneInfo("Europe/Berlin")
    spec = daily_from(datetime(2026, 3, 27, 2, 30, tzinfo=zone), "Europe/Berlin")
    fires = next_fires(spec, utc(2026, 1, 1), 4)
    assert local_times(fires, "Europe/Berlin") == [
        "03-27 02:30+0100",
        "03-28 02:30+0100",
        "03-29 03:00+0200",
        "03-30 02:30+0200",
    ]


def test_daily_interval_at_midnight_in_santiago_fires_at_the_jump():
    zone = ZoneInfo("America/Santiago")
    spec = daily_from(datetime(2026, 9, 4, 0, 0, tzinfo=zone), "America/Santiago")
    fires = next_fires(spec, utc(2026, 1, 1), 4)
    assert local_times(fires, "America/Santiago") == [
        "09-04 00:00-0400",
        "09-05 00:00-0400",
        "09-06 01:00-0300",
        "09-07 00:00-0300",
    ]


def test_daily_interval_in_a_repeated_hour_fires_once_at_the_first_occurrence():
    zone = ZoneInfo("America/New_York")
    spec = daily_from(datetime(2026, 10, 30, 1, 30, tzinfo=zone), "America/New_York")
    fires = next_fires(spec, utc(2026, 1, 1), 4)
    assert local_times(fires, "America/New_York") == [
        "10-30 01:30-0400",
        "10-31 01:30-0400",
        "11-01 01:30-0400",
        "11-02 01:30-0500",
    ]


def test_daily_interval_started_in_the_second_pass_fires_at_its_start_first():
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=zone)  # 01:30Z, CET
    spec = daily_from(start, "Europe/Berlin")
    assert next_fires(spec, utc(2026, 1, 1), 2) == [
        utc(2026, 10, 25, 1, 30),
        utc(2026, 10, 26, 1, 30),
    ]


def test_monthly_interval_keeps_the_local_time_across_dst():
    zone = ZoneInfo("Europe/Berlin")
    spec = daily_from(datetime(2026, 1, 31, 9, tzinfo=zone), "Europe/Berlin", 1, "months")
    fires = next_fires(spec, utc(2026, 1, 1), 4)
    assert local_times(fires, "Europe/Berlin") == [
        "01-31 09:00+0100",
        "02-28 09:00+0100",
        "03-31 09:00+0200",
        "04-30 09:00+0200",
    ]


def test_hourly_interval_is_real_time_across_dst():
    spec = ScheduleSpec(
        "interval", "Europe/Berlin", every=1, unit="hours", starts_at=utc(2026, 10, 24, 22)
    )
    fires = next_fires(spec, utc(2026, 10, 24, 21), 5)
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(fires))
    assert local_times(fires, "Europe/Berlin")[2:4] == ["10-25 02:00+0200", "10-25 02:00+0100"]
