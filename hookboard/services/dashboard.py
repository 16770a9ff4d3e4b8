"""Read-only queries the dashboard needs and the REST API does not offer.

Keyword-only functions that take a Session and never write. Every query is
scoped to its workspace and walks an index: runs by (workspace_id, id) or
(schedule_id, id), the 24-hour window by runs.created_at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from hookboard.models import Run, RunStatus, Schedule, ScheduleStatus
from hookboard.services import credentials
from hookboard.services.stats import STATS_SAMPLE_LIMIT, percentile
from hookboard.services.workspaces.permissions import Access

# Outcomes drawn in the runs-per-hour chart; in-flight runs count as "pending".
CHART_OUTCOMES = ("succeeded", "failed", "retrying", "skipped", "pending")
_IN_FLIGHT = ("pending", "running")


@dataclass(frozen=True)
class Overview:
    active_schedules: int
    runs_24h: int
    success_rate: float | None  # succeeded / (succeeded + failed)
    p95_latency_ms: float | None


@dataclass(frozen=True)
class FailedRun:
    run_id: int
    schedule_id: int
    schedule_name: str
    scheduled_for: datetime
    error_class: str | None
    status_code: int | None


def session_access(
    session: Session, *, token: str, now: datetime, workspace_id: int | None = None
) -> Access | None:
    """Who holds a live session token, by the API's own rule, acting in
    `workspace_id` (their personal workspace when that is None or no longer
    theirs); None when signed out."""
    if not token:
        return None
    connection = session.connection()
    found = credentials.find_session(connection, token, workspace_id)
    if found is not None and workspace_id is not None and found.workspace_id is None:
        found = credentials.find_session(connection, token)
    if found is None or not credentials.session_is_live(found, now):
        return None
    # End the lookup's transaction first: on SQLite it holds the write lock
    # that the touch's own short transaction takes.
    session.rollback()
    credentials.touch_session(session.get_bind(), found, now)
    if found.workspace_id is None:
        return None  # no workspace left to act in (a closing account)
    return credentials.session_access(found)


def overview(session: Session, *, workspace_id: int, now: datetime) -> Overview:
    """Headline figures over the runs created in the last 24 hours."""
    since = now - timedelta(hours=24)
    active = session.exec(
        select(func.count())
        .select_from(Schedule)
        .where(Schedule.workspace_id == workspace_id, Schedule.status == ScheduleStatus.active)
    ).one()
    window = (Run.workspace_id == workspace_id, col(Run.created_at) >= since)
    counts = dict(
        session.exec(select(Run.status, func.count()).where(*window).group_by(Run.status)).all()
    )
    finished = counts.get("succeeded", 0) + counts.get("failed", 0)
    latencies = sorted(
        session.exec(
            select(Run.latency_ms)
            .where(*window, col(Run.latency_ms).is_not(None))
            .limit(STATS_SAMPLE_LIMIT)
        ).all()
    )
    p95 = percentile(latencies, 0.95)
    return Overview(
        active_schedules=active,
        runs_24h=sum(counts.values()),
        success_rate=counts.get("succeeded", 0) / finished if finished else None,
        p95_latency_ms=None if p95 is None else round(p95, 1),
    )


def _hour_of(column, dialect: str):
    """The UTC hour of a timestamp as text 'YYYY-MM-DD HH', in the database's own SQL."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)  # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS...'


def runs_per_hour(
    session: Session, *, workspace_id: int, now: datetime, hours: int = 24
) -> list[dict[str, int | str]]:
    """One row per hour of the window, oldest first: {"hour": "14:00", outcome: count, ...}."""
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    hour = _hour_of(Run.created_at, session.get_bind().dialect.name)
    rows = session.exec(
        select(hour, Run.status, func.count())
        .where(Run.workspace_id == workspace_id, col(Run.created_at) >= start)
        .group_by(hour, Run.status)
    ).all()
    buckets = {
        f"{start + timedelta(hours=n):%Y-%m-%d %H}": {"hour": f"{start + timedelta(hours=n):%H}:00"}
        for n in range(hours)
    }
    for key, status, count in rows:
        bucket = buckets.get(key)
        if bucket is None:
            continue
        outcome = "pending" if status in _IN_FLIGHT else status
        bucket[outcome] = int(bucket.get(outcome, 0)) + count
    for bucket in buckets.values():
        for outcome in CHART_OUTCOMES:
            bucket.setdefault(outcome, 0)
    return list(buckets.values())


def latest_failures(session: Session, *, workspace_id: int, limit: int = 5) -> list[FailedRun]:
    rows = session.exec(
        select(Run, Schedule.name)
        .join(Schedule, Schedule.id == Run.schedule_id)
        .where(Run.workspace_id == workspace_id, Run.status == RunStatus.failed)
        .order_by(col(Run.id).desc())
        .limit(limit)
    ).all()
    return [
        FailedRun(
            run_id=run.id,
            schedule_id=run.schedule_id,
            schedule_name=name,
            scheduled_for=run.scheduled_for,
            error_class=run.error_class,
            status_code=run.status_code,
        )
        for run, name in rows
    ]


def recent_statuses(
    session: Session, *, schedule_ids: Sequence[int], limit: int = 10
) -> dict[int, list[str]]:
    """Each schedule's newest `limit` run statuses, oldest first (one index walk each).
    The caller passes ids it already scoped to its user."""
    history: dict[int, list[str]] = {}
    for schedule_id in schedule_ids:
        statuses = session.exec(
            select(Run.status)
            .where(Run.schedule_id == schedule_id)
            .order_by(col(Run.id).desc())
            .limit(limit)
        ).all()
        history[schedule_id] = list(reversed(statuses))
    return history


def schedule_names(
    session: Session, *, workspace_id: int, limit: int = 500
) -> list[tuple[int, str]]:
    """(id, name) of the user's schedules by name, for filters and labels."""
    return list(
        session.exec(
            select(Schedule.id, Schedule.name)
            .where(Schedule.workspace_id == workspace_id)
            .order_by(Schedule.name, Schedule.id)
            .limit(limit)
        ).all()
    )


def names_of_schedules(
    session: Session, *, workspace_id: int, ids: Sequence[int]
) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.exec(
            select(Schedule.id, Schedule.name).where(
                Schedule.workspace_id == workspace_id, col(Schedule.id).in_(set(ids))
            )
        ).all()
    )
