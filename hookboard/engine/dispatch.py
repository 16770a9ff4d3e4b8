"""The ticker's work: claim due schedules, record their runs, find lost runs.

Everything here is a database transaction; queueing happens after commit, so
a run exists in the database before any worker can hear of it. If the
process dies between commit and enqueue, `recover_stale_runs` queues the run
again once its lease runs out.

Concurrency: on PostgreSQL due schedules are locked with `FOR UPDATE SKIP
LOCKED`, so several tickers share the work; on SQLite the engine's `BEGIN
IMMEDIATE` serialises tickers. The unique (schedule_id, scheduled_for) makes
a duplicate firing impossible either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, bindparam, case, select, update
from sqlalchemy.dialects import sqlite

from hookboard.core import pg_batch
from hookboard.domain.firing import IN_FLIGHT, is_delivering, plan_firing
from hookboard.domain.schedules import ScheduleSpecError
from hookboard.domain.webhook_ids import new_delivery_key
from hookboard.models import Run, RunStatus, Schedule, ScheduleStatus

schedules = Schedule.__table__
runs = Run.__table__

DUE_COLUMNS = [
    schedules.c.id,
    schedules.c.workspace_id,
    schedules.c.kind,
    schedules.c.cron,
    schedules.c.timezone,
    schedules.c.every,
    schedules.c.unit,
    schedules.c.run_at,
    schedules.c.starts_at,
    schedules.c.ends_at,
    schedules.c.anchor_at,
    schedules.c.next_run_at,
    schedules.c.misfire,
    schedules.c.overlap,
    schedules.c.max_attempts,
    schedules.c.last_run_id,
    schedules.c.last_run_at,
    runs.c.status.label("last_run_status"),
    runs.c.lease_expires_at.label("last_run_lease"),
]


@dataclass(frozen=True)
class DispatchResult:
    claimed: int  # due schedules handled
    run_ids: list[int]  # new runs to deliver
    skipped: int  # firings recorded as skipped (overlap)


@dataclass
class _Decision:
    row: object
    next_run_at: datetime | None
    status: str
    run: dict | None = None  # the run to record, if the schedule fires
    paused_reason: str | None = None


def dispatch_due(
    engine: Engine,
    now: datetime,
    *,
    limit: int,
    misfire_grace: timedelta,
    lease_grace: timedelta,
) -> DispatchResult:
    """Claim up to `limit` due schedules in one transaction and record their runs."""
    with engine.begin() as connection:
        due = connection.execute(_due_query(connection, now, limit)).all()
        if not due:
            return DispatchResult(0, [], 0)
        decisions = [_decide(row, now, misfire_grace, now + lease_grace) for row in due]
        inserted = _insert_runs(connection, [d.run for d in decisions if d.run])
        _update_schedules(connection, [_update_values(d, inserted) for d in decisions])
    pending = [run_id for run_id, status in inserted.values() if status == RunStatus.pending]
    return DispatchResult(len(due), pending, len(inserted) - len(pending))


def _due_query(connection: Connection, now: datetime, limit: int):
    query = (
        select(*DUE_COLUMNS)
        .select_from(schedules.outerjoin(runs, runs.c.id == schedules.c.last_run_id))
        .where(schedules.c.status == ScheduleStatus.active, schedules.c.next_run_at <= now)
        .order_by(schedules.c.next_run_at)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(of=schedules, skip_locked=True)
    return query


def _decide(row, now: datetime, misfire_grace: timedelta, lease_until: datetime) -> _Decision:
    try:
        plan = plan_firing(
            row, row.next_run_at, now, misfire=row.misfire, misfire_grace=misfire_grace
        )
    except ScheduleSpecError as error:
        # A schedule whose times cannot be computed any more (say, a zone gone
        # from tzdata) is paused with the reason instead of stopping the ticker.
        return _Decision(row, None, ScheduleStatus.paused, paused_reason=str(error))
    status = ScheduleStatus.active if plan.next_run_at else ScheduleStatus.completed
    decision = _Decision(row, plan.next_run_at, status)
    if plan.fire_at is not None:
        overlapping = row.overlap == "skip" and is_delivering(
            row.last_run_status, row.last_run_lease, now
        )
        run_status = RunStatus.skipped if overlapping else RunStatus.pending
        decision.run = _new_run(row, plan.fire_at, run_status, now, lease_until)
    return decision


def _new_run(row, fire_at: datetime, status: str, now: datetime, lease_until: datetime) -> dict:
    skipped = status == RunStatus.skipped
    return {
        "workspace_id": row.workspace_id,
        "schedule_id": row.id,
        "scheduled_for": fire_at,
        "trigger": "schedule",
        "status": status,
        "attempt_count": 0,
        "max_attempts": row.max_attempts,
        "created_at": now,
        "finished_at": now if skipped else None,
        "lease_expires_at": None if skipped else lease_until,
        "delivery_key": new_delivery_key(),
    }


RUN_INSERT_COLUMNS = (
    ("workspace_id", "bigint"),
    ("schedule_id", "bigint"),
    ("scheduled_for", "timestamptz"),
    ("trigger", "varchar"),
    ("status", "varchar"),
    ("attempt_count", "integer"),
    ("max_attempts", "integer"),
    ("created_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("lease_expires_at", "timestamptz"),
    ("delivery_key", "varchar"),
)
_PG_INSERT_RUNS = pg_batch.insert_rows(
    "runs",
    RUN_INSERT_COLUMNS,
    suffix="ON CONFLICT (schedule_id, scheduled_for) DO NOTHING RETURNING id, schedule_id, status",
)


def _insert_runs(connection: Connection, new_runs: list[dict]) -> dict[int, tuple[int, str]]:
    """Insert the runs; a firing already recorded is left alone. Returns
    schedule_id -> (run id, status) for the rows actually inserted."""
    if not new_runs:
        return {}
    if connection.dialect.name == "postgresql":
        result = connection.execute(_PG_INSERT_RUNS, pg_batch.rows_param(new_runs))
    else:
        statement = (
            sqlite.insert(runs)
            .on_conflict_do_nothing(index_elements=["schedule_id", "scheduled_for"])
            .returning(runs.c.id, runs.c.schedule_id, runs.c.status)
        )
        result = connection.execute(statement, new_runs)
    return {row.schedule_id: (row.id, row.status) for row in result}


def _update_values(decision: _Decision, inserted: dict[int, tuple[int, str]]) -> dict:
    row = decision.row
    last_run_id = row.last_run_id
    last_run_at = row.last_run_at
    if decision.run is not None and row.id in inserted:
        run_id, status = inserted[row.id]
        last_run_at = decision.run["scheduled_for"]
        # A skipped firing leaves last_run_id on the run still in flight, so
        # the overlap policy goes on seeing it.
        if status == RunStatus.pending:
            last_run_id = run_id
    return {
        "id": row.id,
        "next_run_at": decision.next_run_at,
        "status": decision.status,
        "paused_reason": decision.paused_reason,
        "last_run_at": last_run_at,
        "last_run_id": last_run_id,
    }


SCHEDULE_UPDATE_COLUMNS = (
    ("next_run_at", "timestamptz"),
    ("status", "varchar"),
    ("paused_reason", "varchar"),
    ("last_run_at", "timestamptz"),
    ("last_run_id", "bigint"),
)
_PG_UPDATE_SCHEDULES = pg_batch.update_rows("schedules", ("id", "bigint"), SCHEDULE_UPDATE_COLUMNS)
_SCHEDULE_UPDATE = (
    update(schedules)
    .where(schedules.c.id == bindparam("b_id"))
    .values(**{name: bindparam(f"b_{name}") for name, _ in SCHEDULE_UPDATE_COLUMNS})
)


def _update_schedules(connection: Connection, values: list[dict]) -> None:
    if pg_batch.is_postgres(connection):
        connection.execute(_PG_UPDATE_SCHEDULES, pg_batch.rows_param(values))
    else:
        connection.execute(
            _SCHEDULE_UPDATE,
            [{f"b_{name}": value for name, value in row.items()} for row in values],
        )


def next_due_at(engine: Engine) -> datetime | None:
    """The earliest next_run_at of an active schedule (an index lookup)."""
    with engine.connect() as connection:
        return connection.execute(
            select(schedules.c.next_run_at)
            .where(
                and_(
                    schedules.c.status == ScheduleStatus.active,
                    schedules.c.next_run_at.is_not(None),
                )
            )
            .order_by(schedules.c.next_run_at)
            .limit(1)
        ).scalar()


def recover_stale_runs(
    engine: Engine, now: datetime, *, lease_grace: timedelta, limit: int = 1000
) -> list[int]:
    """Unfinished runs whose lease ran out: their job was lost (a crash, Redis
    restarted empty). Extend the lease and return them for queueing again.

    A `running` run whose worker died goes back to `pending`, so the next
    claim accepts it; a still-alive slow worker may then deliver it a second
    time (at least once, same webhook-id).
    """
    with engine.begin() as connection:
        query = (
            select(runs.c.id)
            .where(runs.c.status.in_(IN_FLIGHT), runs.c.lease_expires_at < now)
            .order_by(runs.c.lease_expires_at)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        stale = list(connection.execute(query).scalars())
        if stale:
            connection.execute(
                update(runs)
                .where(runs.c.id.in_(stale))
                .values(
                    lease_expires_at=now + lease_grace,
                    status=case(
                        (runs.c.status == RunStatus.running, RunStatus.pending),
                        else_=runs.c.status,
                    ),
                )
            )
    return stale
