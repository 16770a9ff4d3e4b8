"""The worker process's alert sender: a thread of its own, polling the outbox.

Alerts never share the delivery runtime's event loop, HTTP pools or RQ jobs,
so a slow SMTP server or a dead alert webhook cannot hold up a delivery. The
outbox in the database is the queue: it survives a Redis loss, and several
workers share it (a claim is a conditional update, SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from hookboard.alerts.outbox import (
    ClaimedAlert,
    SendResult,
    any_due,
    claim_due,
    purge_older_than,
    record_results,
)
from hookboard.alerts.senders import AlertSendError, Smtp, send_alert
from hookboard.net.attempt import make_client
from hookboard.net.guard import NetPolicy
from hookboard.settings import Settings

log = logging.getLogger("hookboard.alerts")

POLL_SECONDS = 1.0
CLAIM_LIMIT = 20
# Longer than a webhook (10 s) or SMTP (30 s) timeout: then the alert is due again.
LEASE = timedelta(minutes=2)
PURGE_INTERVAL_SECONDS = 600.0
ERROR_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class AlertConfig:
    policy: NetPolicy
    smtp: Smtp
    max_attempts: int = 8
    retry_base_seconds: float = 30.0
    retention: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertConfig:
        return cls(
            policy=NetPolicy.from_settings(settings),
            smtp=Smtp.from_settings(settings),
            max_attempts=settings.alert_max_attempts,
            retry_base_seconds=settings.alert_retry_base_seconds,
            retention=timedelta(days=settings.retention_days),
        )


class AlertRuntime:
    def __init__(self, engine: Engine, config: AlertConfig):
        self._engine = engine
        self._config = config
        self._stopping = threading.Event()
        self._next_purge = time.monotonic() + 60
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)

    def start(self) -> AlertRuntime:
        self._thread.start()
        return self

    def stop(self, timeout: float = 40) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        async with make_client(max_connections=CLAIM_LIMIT) as client:
            while not self._stopping.is_set():
                try:
                    sent = await self._round(client)
                except Exception:
                    log.exception("sending alerts failed; retrying")
                    sent = 0
                    await self._pause(ERROR_BACKOFF_SECONDS)
                if sent < CLAIM_LIMIT:
                    await self._pause(POLL_SECONDS)

    async def _pause(self, seconds: float) -> None:
        await asyncio.to_thread(self._stopping.wait, seconds)

    async def _round(self, client) -> int:
        """Claim, send and record one batch; returns how many were claimed."""
        await asyncio.to_thread(self._purge_now_and_then)
        now = datetime.now(UTC)
        if not await asyncio.to_thread(any_due, self._engine, now):
            return 0
        batch = await asyncio.to_thread(
            claim_due, self._engine, now, limit=CLAIM_LIMIT, lease=LEASE
        )
        results = await asyncio.gather(*(self._send(client, alert) for alert in batch))
        await asyncio.to_thread(
            record_results,
            self._engine,
            list(results),
            datetime.now(UTC),
            max_attempts=self._config.max_attempts,
            retry_base_seconds=self._config.retry_base_seconds,
        )
        return len(batch)

    async def _send(self, client, alert: ClaimedAlert) -> SendResult:
        if not alert.enabled:
            return SendResult(alert, "channel disabled before the alert was sent")
        try:
            await send_alert(
                client,
                alert.destination,
                alert.outgoing,
                policy=self._config.policy,
                smtp=self._config.smtp,
                secrets=alert.secrets,
            )
        except AlertSendError as error:
            log.warning("alert %s (try %d) failed: %s", alert.id, alert.attempts, error)
            return SendResult(alert, str(error))
        return SendResult(alert, None)

    def _purge_now_and_then(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
        purged = purge_older_than(self._engine, datetime.now(UTC) - self._config.retention)
        if purged:
            log.info("retention: deleted %d old alerts", purged)


_runtime: AlertRuntime | None = None


def start_alert_runtime(engine: Engine, settings: Settings) -> AlertRuntime:
    """The worker process's one alert sender."""
    global _runtime
    if _runtime is None:
        _runtime = AlertRuntime(engine, AlertConfig.from_settings(settings)).start()
    return _runtime


def stop_alert_runtime() -> None:
    global _runtime
    if _runtime is not None:
        _runtime.stop()
        _runtime = None
