"""Claiming runs before sending: due runs become `running` under a lease.

A claim moves a run to `running` under a lease (its timeout plus a grace).
Only a run that is pending, due for its retry, or whose lease ran out can be
claimed, so a duplicate job never sends twice while a delivery is alive;
if the worker dies, the lease runs out and the ticker queues the run again.

Each claim takes the run's next attempt number (attempt_count + 1) for its
own: the number is the claim's generation. A worker that was paused past its
lease still records its request as its own attempt, and record.py lets only
the newest claim move the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, select, text, update

from hookboard.core import pg_batch
from hookboard.core.secrets import live_secrets_by_workspace
from hookboard.domain.outbound import OutboundRequest, RequestFields, merge_request, render_request
from hookboard.domain.retry_policy import RetryPolicy
from hookboard.domain.templating import TemplateValues
from hookboard.domain.webhook_ids import run_webhook_id
from hookboard.models import Run, RunStatus, Schedule, Target

runs = Run.__table__
schedules = Schedule.__table__
targets = Target.__table__

# RQ's scheduler can hand a delayed job over a little early.
RETRY_EARLY_TOLERANCE = timedelta(seconds=1)


@dataclass
class ClaimedRun:
    run_id: int
    workspace_id: int
    schedule_id: int
    scheduled_for: datetime
    attempt_number: int
    max_attempts: int
    request: OutboundRequest
    retry: RetryPolicy
    secrets: list[str] = field(default_factory=list)
    delivery_key: str | None = None

    @property
    def webhook_id(self) -> str:
        # The same on every attempt of the run, so receivers can deduplicate.
        return run_webhook_id(self.run_id, self.delivery_key)


def claim_runs(
    engine: Engine, run_ids: list[int], now: datetime, *, lease_grace: timedelta
) -> list[ClaimedRun]:
    with engine.begin() as connection:
        found = claim(connection, run_ids, now, lease_grace)
    return claimed_runs(*found)


def claim(
    connection: Connection, run_ids: list[int], now: datetime, lease_grace: timedelta
) -> tuple[list, dict[int, list[str]]]:
    """The claimed rows and their users' active secrets; claimed_runs builds the runs."""
    if pg_batch.is_postgres(connection):
        rows = _claim_postgres(connection, run_ids, now, lease_grace)
    else:
        rows = _claim_generic(connection, run_ids, now, lease_grace)
    if not rows:
        return [], {}
    return rows, live_secrets_by_workspace(connection, {row.workspace_id for row in rows}, now)


def claimed_runs(rows: list, secrets: dict[int, list[str]]) -> list[ClaimedRun]:
    return [_claimed(row, secrets.get(row.workspace_id, [])) for row in rows]


_REQUEST_COLUMNS = [
    schedules.c.url,
    schedules.c.method,
    schedules.c.headers,
    schedules.c.body,
    schedules.c.timeout_seconds,
    schedules.c.follow_redirects,
    schedules.c.backoff,
    schedules.c.base_delay_seconds,
    schedules.c.max_delay_seconds,
    schedules.c.jitter,
    schedules.c.target_id,
]
_TARGET_COLUMNS = ["url", "method", "headers", "body"]
_target = targets.alias("t")

# One statement: lock what is claimable (skipping runs another worker holds),
# move it to running under its lease, and return it with its request.
_PG_CLAIM = text(
    f"""
    WITH claimable AS (
        SELECT id FROM runs
        WHERE id = ANY(CAST(:ids AS bigint[])) AND (
            status = '{RunStatus.pending}'
            OR (status = '{RunStatus.retrying}'
                AND (next_attempt_at IS NULL OR next_attempt_at <= :retry_cutoff))
            OR (status = '{RunStatus.running}' AND lease_expires_at < :now))
        ORDER BY id
        FOR UPDATE SKIP LOCKED
    )
    UPDATE runs AS r
    SET status = '{RunStatus.running}',
        attempt_count = r.attempt_count + 1,
        lease_expires_at = :now + make_interval(secs => s.timeout_seconds + :grace),
        started_at = coalesce(r.started_at, :now)
    FROM claimable AS c, schedules AS s LEFT JOIN targets AS t ON t.id = s.target_id
    WHERE r.id = c.id AND s.id = r.schedule_id
    RETURNING r.id, r.workspace_id, r.schedule_id, r.scheduled_for,
        r.attempt_count AS attempt_number, r.max_attempts,
        {", ".join(f"s.{column.name}" for column in _REQUEST_COLUMNS)},
        r.delivery_key,
        {", ".join(f"t.{name} AS target_{name}" for name in _TARGET_COLUMNS)}
    """
    # Typed like the tables' columns, so that secret header values come back decrypted.
).columns(headers=schedules.c.headers.type, target_headers=targets.c.headers.type)


def _claim_postgres(connection: Connection, run_ids: list[int], now: datetime, grace: timedelta):
    rows = connection.execute(
        _PG_CLAIM,
        {
            "ids": run_ids,
            "now": now,
            "retry_cutoff": now + RETRY_EARLY_TOLERANCE,
            "grace": grace.total_seconds(),
        },
    ).all()
    return sorted(rows, key=lambda row: row.id)


_GENERIC_CLAIM_SELECT = (
    select(
        runs.c.id,
        runs.c.workspace_id,
        runs.c.schedule_id,
        runs.c.scheduled_for,
        runs.c.status,
        (runs.c.attempt_count + 1).label("attempt_number"),
        runs.c.max_attempts,
        runs.c.lease_expires_at,
        runs.c.next_attempt_at,
        runs.c.started_at,
        runs.c.delivery_key,
        *_REQUEST_COLUMNS,
        *(_target.c[name].label(f"target_{name}") for name in _TARGET_COLUMNS),
    )
    .select_from(
        runs.join(schedules, schedules.c.id == runs.c.schedule_id).outerjoin(
            _target, _target.c.id == schedules.c.target_id
        )
    )
    .where(runs.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(runs.c.id)
)
_GENERIC_CLAIM_UPDATE = (
    update(runs)
    .where(runs.c.id == bindparam("b_id"))
    .values(
        status=RunStatus.running,
        attempt_count=runs.c.attempt_count + 1,
        lease_expires_at=bindparam("b_lease"),
        started_at=bindparam("b_started"),
    )
)


def _claim_generic(connection: Connection, run_ids: list[int], now: datetime, grace: timedelta):
    """SQLite: one writer at a time (BEGIN IMMEDIATE), so select then update."""
    rows = connection.execute(_GENERIC_CLAIM_SELECT, {"ids": run_ids}).all()
    claimable = [row for row in rows if _claimable(row, now)]
    if claimable:
        connection.execute(
            _GENERIC_CLAIM_UPDATE,
            [
                {
                    "b_id": row.id,
                    "b_lease": now + timedelta(seconds=row.timeout_seconds) + grace,
                    "b_started": row.started_at or now,
                }
                for row in claimable
            ],
        )
    return claimable


def _claimable(row, now: datetime) -> bool:
    if row.status == RunStatus.pending:
        return True
    if row.status == RunStatus.retrying:
        return row.next_attempt_at is None or row.next_attempt_at <= now + RETRY_EARLY_TOLERANCE
    if row.status == RunStatus.running:
        return row.lease_expires_at is not None and row.lease_expires_at < now
    return False


def _claimed(row, secrets: list[str]) -> ClaimedRun:
    own = RequestFields(row.url, row.method, row.headers, row.body)
    target = None
    if row.target_id is not None:
        target = RequestFields(
            row.target_url, row.target_method, row.target_headers, row.target_body
        )
    request = merge_request(
        own, target, timeout_seconds=row.timeout_seconds, follow_redirects=row.follow_redirects
    )
    values = TemplateValues(row.id, row.schedule_id, row.scheduled_for, row.attempt_number)
    return ClaimedRun(
        run_id=row.id,
        workspace_id=row.workspace_id,
        schedule_id=row.schedule_id,
        scheduled_for=row.scheduled_for,
        attempt_number=row.attempt_number,
        max_attempts=row.max_attempts,
        request=render_request(request, values),
        retry=RetryPolicy(
            max_attempts=row.max_attempts,
            backoff=row.backoff,
            base_delay_seconds=row.base_delay_seconds,
            max_delay_seconds=row.max_delay_seconds,
            jitter=row.jitter,
        ),
        secrets=secrets,
        delivery_key=row.delivery_key,
    )
