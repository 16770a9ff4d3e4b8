"""Recording what came back: attempt rows, run transitions and the retries to queue.

Recording a run's final outcome also moves its schedule's failure streak on
(auto-pause, alerts: see alerts.events) in the same transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, bindparam, select, text, update
from sqlalchemy.dialects import sqlite

from hookboard.alerts.events import RunEnd, lock_streaks, record_run_ends
from hookboard.alerts.messages import describe_error
from hookboard.core import pg_batch
from hookboard.core.redaction import redact_headers, redact_url
from hookboard.domain.limits import MAX_URL_CHARS
from hookboard.domain.retry_policy import retry_delay
from hookboard.engine.claim import ClaimedRun, claim, claimed_runs
from hookboard.models import Attempt, Run, RunStatus
from hookboard.net.outcome import AttemptOutcome

runs = Run.__table__
attempts = Attempt.__table__

ERROR_MESSAGE_LIMIT = 1000
REQUEST_BODY_LIMIT = 65536
_FINAL = frozenset({RunStatus.succeeded, RunStatus.failed})


@dataclass
class Delivered:
    """One finished attempt, waiting to be written."""

    run: ClaimedRun
    outcome: AttemptOutcome
    sent_headers: dict[str, str]


@dataclass(frozen=True)
class RetryLater:
    run_id: int
    delay_seconds: float


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
        found = claim(connection, run_ids, now, lease_grace) if run_ids else ([], {})
    return retries, claimed_runs(*found)


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
        "request_url": redact_url(request.url)[:MAX_URL_CHARS],
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
