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


# A claim: the run and its attempt number (the claim's generation, see claim.py).
ClaimKey = tuple[int, int]


@dataclass(frozen=True)
class Written:
    """What a committed record wrote, for the caller's retries and metrics."""

    retries: list[RetryLater]
    moved: set[ClaimKey]  # claims whose outcome moved their run on (the newest claim)
    recorded: set[ClaimKey]  # claims whose attempt row was written (moved or stale)

    @staticmethod
    def nothing() -> Written:
        return Written([], set(), set())


def claim_key(run: ClaimedRun) -> ClaimKey:
    return (run.run_id, run.attempt_number)


def record_and_claim(
    engine: Engine,
    delivered: list[Delivered],
    run_ids: list[int],
    now: datetime,
    *,
    lease_grace: timedelta,
) -> tuple[Written, list[ClaimedRun]]:
    """A worker's round: record what came back and claim what came in, one transaction.

    What needs no database (attempt rows, run transitions, rendering the claimed
    requests) is done outside it: on SQLite the transaction holds the one write
    lock that the ticker and every other worker wait on."""
    record = _prepare_record(delivered, now, lease_grace, None)
    with engine.begin() as connection:
        written = _write_record(connection, record, now) if delivered else Written.nothing()
        found = claim(connection, run_ids, now, lease_grace) if run_ids else ([], {})
    return written, claimed_runs(*found)


def record_outcomes(
    engine: Engine,
    delivered: list[Delivered],
    now: datetime,
    *,
    lease_grace: timedelta,
    rng: random.Random | None = None,
) -> Written:
    """Write the attempts and move their runs on, in one transaction.

    Returns what was written: the caller queues its retries after commit.
    """
    record = _prepare_record(delivered, now, lease_grace, rng)
    with engine.begin() as connection:
        return _write_record(connection, record, now)


@dataclass
class _Record:
    """What a batch of finished attempts will write, computed before the transaction."""

    run_updates: list[dict]
    retries: list[tuple[ClaimKey, RetryLater]]
    finishing: list
    attempt_rows: list[dict]


def _prepare_record(
    delivered: list[Delivered],
    now: datetime,
    lease_grace: timedelta,
    rng: random.Random | None,
) -> _Record:
    retries: list[tuple[ClaimKey, RetryLater]] = []
    run_updates = []
    for item in delivered:
        update_, retry = _run_transition(item, now, lease_grace, rng)
        run_updates.append(update_)
        if retry:
            retries.append((claim_key(item.run), retry))
    finishing = _run_ends(delivered, run_updates)
    return _Record(run_updates, retries, finishing, [_attempt_row(item) for item in delivered])


def _write_record(connection: Connection, record: _Record, now: datetime) -> Written:
    # Schedules before runs, the order a schedule's delete takes them in.
    finishing = record.finishing
    streaks = lock_streaks(connection, finishing) if finishing else []
    # A stale claim (the run was claimed again after its lease ran out, or moved
    # on) only adds its attempt, under its own number; a run deleted meanwhile
    # (its schedule was deleted) has nothing left to record, and one such run
    # must not fail the whole batch on a foreign key.
    moved, existing = _move_runs(connection, record.run_updates)
    rows = [row for row in record.attempt_rows if row["run_id"] in existing]
    _insert_attempts(connection, rows)
    if streaks:
        ends = [end for end in finishing if (end.run_id, end.attempts) in moved]
        record_run_ends(connection, streaks, ends, now)
    return Written(
        retries=[retry for key, retry in record.retries if key in moved],
        moved=moved,
        recorded={(row["run_id"], row["number"]) for row in rows},
    )


def _move_runs(connection: Connection, values: list[dict]) -> tuple[set[ClaimKey], set[int]]:
    """Apply the transitions whose guard holds (the run is still running under
    this very claim: its attempt count is the claim's attempt number). Returns
    (the claims that moved their run, the runs that exist), all locked until
    commit so that a concurrent delete waits for this write."""
    ids = [row["id"] for row in values]
    if pg_batch.is_postgres(connection):
        result = connection.execute(_PG_UPDATE_RUNS, pg_batch.rows_param(values))
        moved = {(row.id, row.attempt_count) for row in result}
        moved_ids = {run_id for run_id, _ in moved}
        others = [run_id for run_id in ids if run_id not in moved_ids]
        if not others:
            return moved, moved_ids
        locked = connection.execute(_PG_LOCK_RUNS, {"ids": others}).scalars()
        return moved, moved_ids | set(locked)
    # SQLite: this transaction holds the database's write lock already.
    current = {
        row.id: (row.status, row.attempt_count)
        for row in connection.execute(_RUNS_NOW, {"ids": ids})
    }
    applies = [
        row for row in values if current.get(row["id"]) == (RunStatus.running, row["attempt_count"])
    ]
    if applies:
        connection.execute(
            _UPDATE_RUNS, [{f"b_{name}": value for name, value in row.items()} for row in applies]
        )
    return {(row["id"], row["attempt_count"]) for row in applies}, set(current)


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
    ("status", "varchar"),
    ("attempt_count", "integer"),
    ("status_code", "integer"),
    ("latency_ms", "float8"),
    ("error_class", "varchar"),
    ("finished_at", "timestamptz"),
    ("next_attempt_at", "timestamptz"),
    ("lease_expires_at", "timestamptz"),
)
# Guarded by the claim: a stale claim's outcome never overwrites a newer claim's.
_PG_UPDATE_RUNS = pg_batch.update_rows(
    "runs",
    ("id", "bigint"),
    RUN_UPDATE_COLUMNS,
    where=f"runs.status = '{RunStatus.running}' AND runs.attempt_count = v.attempt_count",
    suffix="RETURNING runs.id, runs.attempt_count",
)
_UPDATE_RUNS = (
    update(runs)
    .where(
        and_(
            runs.c.id == bindparam("b_id"),
            runs.c.status == RunStatus.running,
            runs.c.attempt_count == bindparam("b_attempt_count"),
        )
    )
    .values(**{name: bindparam(f"b_{name}") for name, _ in RUN_UPDATE_COLUMNS})
)


def _attempt_row(item: Delivered) -> dict:
    run, outcome, request = item.run, item.outcome, item.run.request
    body = request.body
    return {
        "run_id": run.run_id,
        "workspace_id": run.workspace_id,
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
    ("workspace_id", "bigint"),
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
