from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hookboard.domain.firing import first_run_at, plan_firing

GRACE = timedelta(seconds=30)


def every(seconds: int, anchor: datetime, **extra):
    fields = dict(
        kind="interval",
        cron=None,
        timezone="UTC",
        every=seconds,
        unit="seconds",
        run_at=None,
        starts_at=None,
        ends_at=None,
        anchor_at=anchor,
    )
    return SimpleNamespace(**{**fields, **extra})


T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_an_on_time_firing_fires_and_moves_to_the_next_instant():
    plan = plan_firing(
        every(10, T0), T0, T0 + timedelta(milliseconds=5), misfire="coalesce", misfire_grace=GRACE
    )
    assert plan.fire_at == T0
    assert plan.next_run_at == T0 + timedelta(seconds=10)


def test_coalesce_fires_once_for_all_missed_instants():
    now = T0 + timedelta(seconds=95)
    plan = plan_firing(every(10, T0), T0, now, misfire="coalesce", misfire_grace=GRACE)
    assert plan.fire_at == T0
    # T0+10 .. T0+60 are missed (over 30 s late); T0+70 onwards are merely late.
    assert plan.next_run_at == T0 + timedelta(seconds=70)


def test_skip_drops_a_firing_later_than_the_grace():
    now = T0 + timedelta(seconds=95)
    plan = plan_firing(every(10, T0), T0, now, misfire="skip", misfire_grace=GRACE)
    assert plan.fire_at is None
    assert plan.next_run_at == T0 + timedelta(seconds=70)


def test_a_late_ticker_within_the_grace_loses_no_instant():
    now = T0 + timedelta(seconds=1.5)
    plan = plan_firing(every(1, T0), T0, now, misfire="coalesce", misfire_grace=GRACE)
    assert plan.fire_at == T0
    assert plan.next_run_at == T0 + timedelta(seconds=1)


def test_skip_still_fires_a_firing_within_the_grace():
    now = T0 + timedelta(seconds=5)
    plan = plan_firing(every(60, T0), T0, now, misfire="skip", misfire_grace=GRACE)
    assert plan.fire_at == T0


def test_a_once_schedule_has_no_next_run_after_firing():
    once = every(1, T0, kind="once", every=None, unit=None, run_at=T0)
    plan = plan_firing(once, T0, T0, misfire="coalesce", misfire_grace=GRACE)
    assert plan.fire_at == T0 and plan.next_run_at is None


def test_the_first_run_of_an_interval_is_its_start():
    assert first_run_at(every(60, T0), T0) == T0
    assert first_run_at(every(60, T0), T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=60)


def test_a_one_off_whose_instant_just_passed_still_fires():
    once = every(1, T0, kind="once", every=None, unit=None, run_at=T0)
    assert first_run_at(once, T0 + timedelta(milliseconds=3)) == T0
    assert first_run_at(once, T0 - timedelta(hours=1)) == T0


def test_a_one_off_past_its_end_never_fires():
    once = every(
        1, T0, kind="once", every=None, unit=None, run_at=T0, ends_at=T0 - timedelta(seconds=1)
    )
    assert first_run_at(once, T0 + timedelta(seconds=5)) is None
