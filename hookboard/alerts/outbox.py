"""The alerts outbox as the sender sees it: claim due alerts, record how sending went.

A claim moves an alert to `sending` with `next_attempt_at` as its lease; an
alert whose sender died is due again once that passes. Failures are retried
with exponential backoff and jitter up to ALERT_MAX_ATTEMPTS, then `failed`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, bindparam, delete, or_, select, update

from hookboard.alerts.senders import Destination, Outgoing
from hookboard.core.db import READ_ONLY
from hookboard.core.secrets import live_secrets_by_workspace
from hookboard.domain.retry_policy import RetryPolicy, retry_delay
from hookboard.models import Alert, AlertStatus, NotificationChannel

alerts = Alert.__table__
channels = NotificationChannel.__table__

ERROR_LIMIT = 1000
MAX_RETRY_DELAY_SECONDS = 3600.0
PURGE_BATCH = 1000


@dataclass(frozen=True)
class ClaimedAlert:
    id: int
    attempts: int  # including this one
    workspace_id: int
    destination: Destination
    enabled: bool
    outgoing: Outgoing
    secrets: list[str]


@dataclass(frozen=True)
class SendResult:
    alert: ClaimedAlert
    error: str | None  # None: sent


def _due(now: datetime):
    return or_(
        and_(alerts.c.status == AlertStatus.pending, alerts.c.next_attempt_at <= now),
        # A sender that died: its lease (next_attempt_at) ran out.
        and_(alerts.c.status == AlertStatus.sending, alerts.c.next_attempt_at < now),
    )


def any_due(engine: Engine, now: datetime) -> bool:
    """A cheap read (no write lock on SQLite) before claiming."""
    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        return connection.execute(select(alerts.c.id).where(_due(now)).limit(1)).first() is not None


def claim_due(engine: Engine, now: datetime, *, limit: int, lease: timedelta) -> list[ClaimedAlert]:
    with engine.begin() as connection:
        query = (
            select(
                alerts,
                channels.c.kind,
                channels.c.url,
                channels.c.email,
                channels.c.enabled,
            )
            .join(channels, channels.c.id == alerts.c.channel_id)
            .where(_due(now))
            .order_by(alerts.c.next_attempt_at)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(of=alerts, skip_locked=True)
        rows = connection.execute(query).all()
        if not rows:
            return []
        connection.execute(
            update(alerts)
            .where(alerts.c.id == bindparam("b_id"))
            .values(
                status=AlertStatus.sending,
                attempts=bindparam("b_attempts"),
                next_attempt_at=now + lease,
            ),
            [{"b_id": row.id, "b_attempts": row.attempts + 1} for row in rows],
        )
        secrets = live_secrets_by_workspace(connection, {row.workspace_id for row in rows}, now)
    return [_claimed(row, secrets.get(row.workspace_id, [])) for row in rows]


def _claimed(row, secrets: list[str]) -> ClaimedAlert:
    return ClaimedAlert(
        id=row.id,
        attempts=row.attempts + 1,
        workspace_id=row.workspace_id,
        destination=Destination(kind=row.kind, url=row.url, email=row.email),
        enabled=row.enabled,
        outgoing=Outgoing(
            alert_id=f"alert_{row.id}",
            event=row.event,
            subject=row.subject,
            text=row.text,
            schedule_id=row.schedule_id,
            run_id=row.run_id,
            details=row.details,
        ),
        secrets=secrets,
    )


def record_results(
    engine: Engine,
    results: list[SendResult],
    now: datetime,
    *,
    max_attempts: int,
    retry_base_seconds: float,
    rng: random.Random | None = None,
) -> None:
    backoff = RetryPolicy(
        max_attempts=max_attempts,
        backoff="exponential",
        base_delay_seconds=retry_base_seconds,
        max_delay_seconds=MAX_RETRY_DELAY_SECONDS,
        jitter=True,
    )
    values = [_result_values(result, now, backoff, rng) for result in results]
    if not values:
        return
    with engine.begin() as connection:
        # Guarded by the attempt count: a sender whose lease ran out and was
        # overtaken does not overwrite the newer attempt's result.
        connection.execute(
            update(alerts)
            .where(
                alerts.c.id == bindparam("b_id"),
                alerts.c.status == AlertStatus.sending,
                alerts.c.attempts == bindparam("b_attempts"),
            )
            .values(
                status=bindparam("b_status"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                sent_at=bindparam("b_sent_at"),
            ),
            values,
        )


def _result_values(result: SendResult, now: datetime, backoff: RetryPolicy, rng) -> dict:
    alert = result.alert
    values = {
        "b_id": alert.id,
        "b_attempts": alert.attempts,
        "b_status": AlertStatus.sent,
        "b_next": now,
        "b_error": None,
        "b_sent_at": now,
    }
    if result.error is None:
        return values
    values.update(b_error=result.error[:ERROR_LIMIT], b_sent_at=None)
    if alert.attempts >= backoff.max_attempts or not alert.enabled:
        values["b_status"] = AlertStatus.failed
    else:
        delay = retry_delay(backoff, alert.attempts, None, rng)
        values.update(b_status=AlertStatus.pending, b_next=now + timedelta(seconds=delay))
    return values


def purge_older_than(engine: Engine, cutoff: datetime) -> int:
    """Delete finished alerts created before `cutoff`, in short batches."""
    total = 0
    while True:
        with engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(alerts.c.id)
                    .where(
                        alerts.c.status.in_((AlertStatus.sent, AlertStatus.failed)),
                        alerts.c.created_at < cutoff,
                    )
                    .limit(PURGE_BATCH)
                ).scalars()
            )
            if ids:
                connection.execute(delete(alerts).where(alerts.c.id.in_(ids)))
        total += len(ids)
        if len(ids) < PURGE_BATCH:
            return total
