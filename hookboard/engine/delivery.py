"""The worker's database side: claim runs before sending, record what came back.

Recording a run's final outcome also moves its schedule's failure streak on
(auto-pause, alerts: see alert_events) in the same transaction.

A claim moves a run to `running` under a lease (its timeout plus a grace).
Only a run that is pending, due for its retry, or whose lease ran out can be
claimed, so a duplicate job never sends twice while a delivery is alive;
if the worker dies, the lease runs out and the ticker queues the run again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, bindparam, select, text, update
from sqlalchemy.dialects import sqlite

from hookboard.alerts.events import RunEnd, lock_streaks, record_run_ends
from hookboard.alerts.messages import describe_error
from hookboard.core import pg_batch
from hookboard.core.redaction import redact_headers
from hookboard.core.secrets import live_secrets_by_user
from hookboard.domain.outbound import RequestFields, merge_request, render_request
from hookboard.domain.retry_policy import RetryPolicy, retry_delay
from hookboard.domain.templating import TemplateValues
from hookboard.models import Attempt, Run, RunStatus, Schedule, Target
from hookboard.net.attempt import AttemptOutcome, OutboundRequest

runs = Run.__table__
schedules = Schedule.__table__
targets = Target.__table__
attempts = Attempt.__table__

ERROR_MESSAGE_LIMIT = 1000
REQUEST_BODY_LIMIT = 65536
_FINAL = frozenset({RunStatus.succeeded, RunStatus.failed})
# RQ's scheduler can hand a delayed job over a little early.
RETRY_EARLY_TOLERANCE = timedelta(seconds=1)


@dataclass
class ClaimedRun:
    run_id: int
    user_id: int
    schedule_id: int
    scheduled_for: datetime
    attempt_number: int
    max_attempts: int
    request: OutboundRequest
    retry: RetryPolicy
    secrets: list[str] = field(default_factory=list)

    @property
    def webhook_id(self) -> str:
        # The same on every attempt of the run, so receivers can deduplicate.
        return f"run_{self.run_id}"


@dataclass
class Delivered:
    """One finished attempt, waiting to be written."""

    run: ClaimedRun
    outcome: AttemptOutcome
    sent_headers: dict[str, str]


def claim_runs(
    engine: Engine, run_ids: list[int], now: datetime, *, lease_grace: timedelta
) -> list[ClaimedRun]:
    with engine.begin() as connection:
        found = _claim(connection, run_ids, now, lease_grace)
    return _claimed_runs(*found)


def record_and_claim(
    engine: Engine,
    delivered: list[Delivered],
    run_ids: list[int],
    now: datetime,
    *,
    lease_grace: timedelta,
) -> tuple[list[RetryLater], list[ClaimedRun]]:
    """A worker's round: record what came back and claim what came in, one transaction.

    What needs no database (attempt rows, run transitions, rendering the claimed
    requests) is done outside it: on SQLite the transaction holds the one write
    lock that the ticker and every other worker wait on."""
    record = _prepare_record(delivered, now, lease_grace, None)
    with engine.begin() as connection:
        retries = _write_record(connection, record, now) if delivered else []
        found = _claim(connection, run_ids, now, lease_grace) if run_ids else ([], {})
    return retries, _claimed_runs(*found)


def _claim(
    connection: Connection, run_ids: list[int], now: datetime, lease_grace: timedelta
) -> tuple[list, dict[int, list[str]]]:
    """The claimed rows and their users' active secrets; _claimed_runs builds the runs."""
    if pg_batch.is_postgres(connection):
        rows = _claim_postgres(connection, run_ids, now, lease_grace)
    else:
        rows = _claim_generic(connection, run_ids, now, lease_grace)
    if not rows:
        return [], {}
    return rows, live_secrets_by_user(connection, {row.user_id for row in rows}, now)


def _claimed_runs(rows: list, secrets: dict[int, list[str]]) -> list[ClaimedRun]:
    return [_claimed(row, secrets.get(row.user_id, [])) for row in rows]


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
        lease_expires_at = :now + make_interval(secs => s.timeout_seconds + :grace),
        started_at = coalesce(r.started_at, :now)
    FROM claimable AS c, schedules AS s LEFT JOIN targets AS t ON t.id = s.target_id
    WHERE r.id = c.id AND s.id = r.schedule_id
    RETURNING r.id, r.user_id, r.schedule_id, r.scheduled_for, r.attempt_count, r.max_attempts,
        {", ".join(f"s.{column.name}" for column in _REQUEST_COLUMNS)},
        {", ".join(f"t.{name} AS target_{name}" for name in _TARGET_COLUMNS)}
    """
)


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
        runs.c.user_id,
        runs.c.schedule_id,
        runs.c.scheduled_for,
        runs.c.status,
        runs.c.attempt_count,
        runs.c.max_attempts,
        runs.c.lease_expires_at,
        runs.c.next_attempt_at,
        runs.c.started_at,
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
    values = TemplateValues(row.id, row.schedule_id, row.scheduled_for, row.attempt_count + 1)
    return ClaimedRun(
        run_id=row.id,
        user_id=row.user_id,
        schedule_id=row.schedule_id,
        scheduled_for=row.scheduled_for,
        attempt_number=row.attempt_count + 1,
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
    )


@dataclass(frozen=True)
class RetryLater:
    run_id: int
    delay_seconds: float


def record_outcomes(
    engine: Engine,
    delivered: list[Delivered],
    now: datetime,
    *,
    lease_grace: timedelta,
    rng: random.Random | None = None,
) -> list[RetryLater]:
    """Write the attempts and move their runs on, in one transaction.

    Returns the retries to schedule; the caller queues them after commit.
    """
    record = _prepare_record(delivered, now, lease_grace, rng)
    with engine.begin() as connection:
        return _write_record(connection, record, now)


@dataclass
class _Record:
    """What a batch of finished attempts will write, computed before the transaction."""

    run_updates: list[dict]
    retries: list[RetryLater]
    finishing: list
    attempt_rows: list[dict]


def _prepare_record(
    delivered: list[Delivered],
    now: datetime,
    lease_grace: timedelta,
    rng: random.Random | None,
) -> _Record:
    retries: list[RetryLater] = []
    run_updates = []
    for item in delivered:
        update_, retry = _run_transition(item, now, lease_grace, rng)
        run_updates.append(update_)
        if retry:
            retries.append(retry)
    finishing = _run_ends(delivered, run_updates)
    return _Record(run_updates, retries, finishing, [_attempt_row(item) for item in delivered])


def _write_record(connection: Connection, record: _Record, now: datetime) -> list[RetryLater]:
    # Schedules before runs, the order a schedule's delete takes them in.
    finishing = record.finishing
    streaks = lock_streaks(connection, finishing) if finishing else []
    # A stale duplicate (a run moved on meanwhile) only adds its attempt; a run
    # deleted meanwhile (its schedule was deleted) has nothing left to record,
    # and one such run must not fail the whole batch on a foreign key.
    moved, existing = _move_runs(connection, record.run_updates)
    _insert_attempts(connection, [row for row in record.attempt_rows if row["run_id"] in existing])
    if streaks:
        record_run_ends(connection, streaks, [e for e in finishing if e.run_id in moved], now)
    return [retry for retry in record.retries if retry.run_id in moved]


def _move_runs(connection: Connection, values: list[dict]) -> tuple[set[int], set[int]]:
    """Apply the transitions whose guard holds (the run is still running at the
    attempt count it was claimed with). Returns (runs moved, runs that exist),
    both locked until commit so that a concurrent delete waits for this write."""
    ids = [row["id"] for row in values]
    if pg_batch.is_postgres(connection):
        moved = set(connection.execute(_PG_UPDATE_RUNS, pg_batch.rows_param(values)).scalars())
        others = [run_id for run_id in ids if run_id not in moved]
        if not others:
            return moved, moved
        return moved, moved | set(connection.execute(_PG_LOCK_RUNS, {"ids": others}).scalars())
    # SQLite: this transaction holds the database's write lock already.
    current = {
        row.id: (row.status, row.attempt_count)
        for row in connection.execute(_RUNS_NOW, {"ids": ids})
    }
    applies = [
        row
        for row in values
        if current.get(row["id"]) == (RunStatus.running, row["_prev_attempts"])
    ]
    if applies:
        connection.execute(
            _UPDATE_RUNS, [{f"b_{name}": value for name, value in row.items()} for row in applies]
        )
    return {row["id"] for row in applies}, set(current)


_RUNS_NOW = select(runs.c.id, runs.c.status, runs.c.attempt_count).where(
    runs.c.id.in_(bindparam("ids", expanding=True))
)
_PG_LOCK_RUNS = text(
    "SELECT id FROM runs WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR KEY SHARE"
)


def _run_ends(delivered: list[Delivered], run_updates: list[dict]) -> list[RunEnd]:
    """The runs this write means to finish (succeeded, or failed for good)."""
    final = {u["id"] for u in run_updates if u["status"] in _FINAL}
    ends = []
    for item in delivered:
        if item.run.run_id not in final:
            continue
        outcome = item.outcome
        ends.append(
            RunEnd(
                run_id=item.run.run_id,
                schedule_id=item.run.schedule_id,
                scheduled_for=item.run.scheduled_for,
                succeeded=outcome.ok,
                attempts=item.run.attempt_number,
                error=None
                if outcome.ok
                else describe_error(
                    outcome.error_class, outcome.status_code, outcome.error_message
                ),
            )
        )
    return ends


def _run_transition(item: Delivered, now: datetime, lease_grace: timedelta, rng):
    run, outcome = item.run, item.outcome
    values = {
        "id": run.run_id,
        "_prev_attempts": run.attempt_number - 1,
        "attempt_count": run.attempt_number,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error_class": outcome.error_class,
        "finished_at": now,
        "next_attempt_at": None,
        "lease_expires_at": None,
    }
    if outcome.ok:
        return {**values, "status": RunStatus.succeeded}, None
    if outcome.retryable and run.attempt_number < run.max_attempts:
        delay = retry_delay(run.retry, run.attempt_number, outcome.retry_after_seconds, rng)
        next_attempt = now + timedelta(seconds=delay)
        values.update(
            status=RunStatus.retrying,
            finished_at=None,
            next_attempt_at=next_attempt,
            lease_expires_at=next_attempt + lease_grace,
        )
        return values, RetryLater(run.run_id, delay)
    return {**values, "status": RunStatus.failed}, None


RUN_UPDATE_COLUMNS = (
    ("_prev_attempts", "integer"),
    ("status", "varchar"),
    ("attempt_count", "integer"),
    ("status_code", "integer"),
    ("latency_ms", "float8"),
    ("error_class", "varchar"),
    ("finished_at", "timestamptz"),
    ("next_attempt_at", "timestamptz"),
    ("lease_expires_at", "timestamptz"),
)
# Guarded by the attempt count: a stale duplicate never overwrites a newer result.
_PG_UPDATE_RUNS = pg_batch.update_rows(
    "runs",
    ("id", "bigint"),
    RUN_UPDATE_COLUMNS,
    where=f"runs.status = '{RunStatus.running}' AND runs.attempt_count = v._prev_attempts",
    suffix="RETURNING runs.id",
)
_UPDATE_RUNS = (
    update(runs)
    .where(
        and_(
            runs.c.id == bindparam("b_id"),
            runs.c.status == RunStatus.running,
            runs.c.attempt_count == bindparam("b__prev_attempts"),
        )
    )
    .values(
        **{
            name: bindparam(f"b_{name}")
            for name, _ in RUN_UPDATE_COLUMNS
            if not name.startswith("_")
        }
    )
)


def _attempt_row(item: Delivered) -> dict:
    run, outcome, request = item.run, item.outcome, item.run.request
    body = request.body
    return {
        "run_id": run.run_id,
        "user_id": run.user_id,
        "number": run.attempt_number,
        "started_at": outcome.started_at,
        "latency_ms": outcome.latency_ms,
        "error_class": outcome.error_class,
        "error_message": (outcome.error_message or None)
        and outcome.error_message[:ERROR_MESSAGE_LIMIT],
        "status_code": outcome.status_code,
        "request_method": request.method,
        "request_url": request.url[:2048],
        "request_headers": redact_headers(item.sent_headers),
        "request_body": _text(body[:REQUEST_BODY_LIMIT]) if body is not None else None,
        "response_headers": redact_headers(outcome.response_headers),
        "response_body": _text(outcome.body_excerpt),
        "created_at": outcome.started_at,
    }


def _text(value: str) -> str:
    # PostgreSQL's text type refuses NUL; a binary response must not lose the row.
    return value.replace("\x00", "\ufffd")


ATTEMPT_COLUMNS = (
    ("run_id", "bigint"),
    ("user_id", "bigint"),
    ("number", "integer"),
    ("started_at", "timestamptz"),
    ("latency_ms", "float8"),
    ("error_class", "varchar"),
    ("error_message", "varchar"),
    ("status_code", "integer"),
    ("request_method", "varchar"),
    ("request_url", "varchar"),
    ("request_headers", "json"),
    ("request_body", "text"),
    ("response_headers", "json"),
    ("response_body", "text"),
    ("created_at", "timestamptz"),
)
_PG_INSERT_ATTEMPTS = pg_batch.insert_rows(
    "attempts", ATTEMPT_COLUMNS, suffix="ON CONFLICT (run_id, number) DO NOTHING"
)
_SQLITE_INSERT_ATTEMPTS = sqlite.insert(attempts).on_conflict_do_nothing(
    index_elements=["run_id", "number"]
)


def _insert_attempts(connection: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    if pg_batch.is_postgres(connection):
        connection.execute(_PG_INSERT_ATTEMPTS, pg_batch.rows_param(rows))
    else:
        connection.execute(_SQLITE_INSERT_ATTEMPTS, rows)
