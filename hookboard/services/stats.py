"""A schedule's delivery figures over a window: success rate and latency percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func
from sqlmodel import Session, select

from hookboard.models import (
    Attempt,
    Run,
    RunStatus,
)
from hookboard.services.schedules import get_schedule

# Percentiles are computed over at most this many of the window's newest runs.
STATS_SAMPLE_LIMIT = 50_000


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


@dataclass
class ScheduleStats:
    schedule_id: int
    since: datetime
    until: datetime
    runs: dict[str, int]
    success_rate: float | None
    latency_ms: dict[str, float | None]
    fire_lag_ms: dict[str, float | None]
    sample_size: int


def schedule_stats(
    session: Session, *, workspace_id: int, schedule_id: int, window: timedelta, now: datetime
) -> ScheduleStats:
    """Runs fired in the window (by scheduled_for) by outcome; latency and fire lag
    percentiles over the window's newest STATS_SAMPLE_LIMIT runs. Fire lag is the
    first attempt's start minus the instant the run was scheduled for."""
    get_schedule(session, workspace_id=workspace_id, schedule_id=schedule_id)
    since = now - window
    in_window = and_(Run.schedule_id == schedule_id, Run.scheduled_for >= since)
    counts = {status.value: 0 for status in RunStatus}
    for status, count in session.exec(
        select(Run.status, func.count()).where(in_window).group_by(Run.status)
    ).all():
        counts[status] = count
    counts["total"] = sum(counts.values())
    finished = counts["succeeded"] + counts["failed"]
    latencies = sorted(
        value
        for value in session.exec(
            select(Run.latency_ms)
            .where(in_window, Run.latency_ms.is_not(None))
            .order_by(Run.scheduled_for.desc())
            .limit(STATS_SAMPLE_LIMIT)
        ).all()
    )
    lags = sorted(
        (started - scheduled).total_seconds() * 1000
        for scheduled, started in session.exec(
            select(Run.scheduled_for, Attempt.started_at)
            .join(Attempt, and_(Attempt.run_id == Run.id, Attempt.number == 1))
            .where(in_window)
            .order_by(Run.scheduled_for.desc())
            .limit(STATS_SAMPLE_LIMIT)
        ).all()
    )
    return ScheduleStats(
        schedule_id=schedule_id,
        since=since,
        until=now,
        runs=counts,
        success_rate=counts["succeeded"] / finished if finished else None,
        latency_ms={f"p{p}": _round(percentile(latencies, p / 100)) for p in (50, 95, 99)},
        fire_lag_ms={f"p{p}": _round(percentile(lags, p / 100)) for p in (50, 99)},
        sample_size=max(len(latencies), len(lags)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
