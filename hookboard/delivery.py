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

from sqlalchemy import Connection, Engine, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hookboard.alert_events import RunEnd, lock_streaks, record_run_ends
from hookboard.alert_messages import describe_error
from hookboard.attempt import AttemptOutcome, OutboundRequest
from hookboard.models import Attempt, Run, RunStatus, Schedule, SigningSecret, Target
from hookboard.outbound import RequestFields, merge_request, render_request
from hookboard.redaction import redact_headers
from hookboard.retry_policy import RetryPolicy, retry_delay
from hookboard.templating import TemplateValues

runs = Run.__table__
schedules = Schedule.__table__
targets = Target.__table__
attempts = Attempt.__table__
secrets_table = SigningSecret.__table__

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
        rows = connection.execute(_claim_query(connection, run_ids)).all()
        claimable = [row for row in rows if _claimable(row, now)]
        if not claimable:
            return []
        connection.execute(
            update(runs)
            .where(runs.c.id == bindparam("b_id"))
            .values(
                status=RunStatus.running,
                lease_expires_at=bindparam("b_lease"),
                started_at=bindparam("b_started"),
            ),
            [
                {
                    "b_id": row.id,
                    "b_lease": now + timedelta(seconds=row.timeout_seconds) + lease_grace,
                    "b_started": row.started_at or now,
                }
                for row in claimable
            ],
        )
        secrets = active_secrets(connection, {row.user_id for row in claimable}, now)
    return [_claimed(row, secrets.get(row.user_id, [])) for row in claimable]


def _claim_query(connection: Connection, run_ids: list[int]):
    target = targets.alias("t")
    query = (
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
            target.c.url.label("target_url"),
            target.c.method.label("target_method"),
            target.c.headers.label("target_headers"),
            target.c.body.label("target_body"),
            schedules.c.target_id,
        )
        .select_from(
            runs.join(schedules, schedules.c.id == runs.c.schedule_id).outerjoin(
                target, target.c.id == schedules.c.target_id
            )
        )
        .where(runs.c.id.in_(run_ids))
        .order_by(runs.c.id)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(of=runs, skip_locked=True)
    return query


def _claimable(row, now: datetime) -> bool:
    if row.status == RunStatus.pending:
        return True
    if row.status == RunStatus.retrying:
        return row.next_attempt_at is None or row.next_attempt_at <= now + RETRY_EARLY_TOLERANCE
    if row.status == RunStatus.running:
        return row.lease_expires_at is not None and row.lease_expires_at < now
    return False


def active_secrets(connection: Connection, user_ids: set[int], now: datetime):
    """Newest first: after a rotation the old secret signs too until it expires."""
    rows = connection.execute(
        select(secrets_table.c.user_id, secrets_table.c.secret)
        .where(
            secrets_table.c.user_id.in_(user_ids),
            or_(secrets_table.c.expires_at.is_(None), secrets_table.c.expires_at > now),
        )
        .order_by(secrets_table.c.created_at.desc(), secrets_table.c.id.desc())
    )
    found: dict[int, list[str]] = {}
    for user_id, secret in rows:
        found.setdefault(user_id, []).append(secret)
    return found


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
    retries: list[RetryLater] = []
    run_updates = []
    for item in delivered:
        update_, retry = _run_transition(item, now, lease_grace, rng)
        run_updates.append(update_)
        if retry:
            retries.append(retry)
    finishing = _run_ends(delivered, run_updates)
    with engine.begin() as connection:
        # Schedules before runs, the order a schedule's delete takes them in.
        streaks = lock_streaks(connection, finishing) if finishing else []
        # A run deleted meanwhile (its schedule was deleted) has nothing left to
        # record; one such run must not fail the whole batch on a foreign key.
        alive = _lock_existing_runs(connection, [item.run.run_id for item in delivered])
        kept = [item for item in delivered if item.run.run_id in alive]
        if kept:
            _insert_attempts(connection, [_attempt_row(item) for item in kept])
            connection.execute(_run_update(), [u for u in run_updates if u["b_id"] in alive])
        if streaks:
            # A stale duplicate (its run update guarded out) finishes nothing.
            expected = {u["b_id"]: (RunStatus.running, u["b_prev_attempts"]) for u in run_updates}
            ends = [end for end in finishing if alive.get(end.run_id) == expected[end.run_id]]
            record_run_ends(connection, streaks, ends, now)
    return [retry for retry in retries if retry.run_id in alive]


def _lock_existing_runs(connection: Connection, run_ids: list[int]) -> dict[int, tuple[str, int]]:
    """Run id -> (status, attempt_count) before this write, for the runs that still exist."""
    query = select(runs.c.id, runs.c.status, runs.c.attempt_count).where(runs.c.id.in_(run_ids))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()  # a concurrent delete waits for this write
    return {row.id: (row.status, row.attempt_count) for row in connection.execute(query)}


def _run_ends(delivered: list[Delivered], run_updates: list[dict]) -> list[RunEnd]:
    """The runs this write means to finish (succeeded, or failed for good)."""
    final = {u["b_id"] for u in run_updates if u["b_status"] in _FINAL}
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
        "b_id": run.run_id,
        "b_prev_attempts": run.attempt_number - 1,
        "b_attempts": run.attempt_number,
        "b_status_code": outcome.status_code,
        "b_latency": outcome.latency_ms,
        "b_error_class": outcome.error_class,
        "b_finished": now,
        "b_next_attempt": None,
        "b_lease": None,
    }
    if outcome.ok:
        return {**values, "b_status": RunStatus.succeeded}, None
    if outcome.retryable and run.attempt_number < run.max_attempts:
        delay = retry_delay(run.retry, run.attempt_number, outcome.retry_after_seconds, rng)
        next_attempt = now + timedelta(seconds=delay)
        values.update(
            b_status=RunStatus.retrying,
            b_finished=None,
            b_next_attempt=next_attempt,
            b_lease=next_attempt + lease_grace,
        )
        return values, RetryLater(run.run_id, delay)
    return {**values, "b_status": RunStatus.failed}, None


def _run_update():
    # Guarded by the attempt count: a stale duplicate never overwrites a newer result.
    return (
        update(runs)
        .where(
            and_(
                runs.c.id == bindparam("b_id"),
                runs.c.status == RunStatus.running,
                runs.c.attempt_count == bindparam("b_prev_attempts"),
            )
        )
        .values(
            status=bindparam("b_status"),
            attempt_count=bindparam("b_attempts"),
            status_code=bindparam("b_status_code"),
            latency_ms=bindparam("b_latency"),
            error_class=bindparam("b_error_class"),
            finished_at=bindparam("b_finished"),
            next_attempt_at=bindparam("b_next_attempt"),
            lease_expires_at=bindparam("b_lease"),
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


def _insert_attempts(connection: Connection, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(attempts).on_conflict_do_nothing(index_elements=["run_id", "number"]),
        rows,
    )
