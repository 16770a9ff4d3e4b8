"""The states and kinds stored as strings in the tables."""

from __future__ import annotations

from enum import StrEnum


class ScheduleKind(StrEnum):
    cron = "cron"
    interval = "interval"
    once = "once"
    window = "window"


class ScheduleStatus(StrEnum):
    active = "active"
    paused = "paused"
    completed = "completed"


class RunStatus(StrEnum):
    pending = "pending"  # recorded and handed to the queue
    running = "running"  # a worker holds its lease
    retrying = "retrying"  # an attempt failed; another is scheduled
    succeeded = "succeeded"
    failed = "failed"  # attempts exhausted (can be replayed)
    skipped = "skipped"  # not sent: overlap policy


class RunTrigger(StrEnum):
    schedule = "schedule"
    manual = "manual"


class ChannelKind(StrEnum):
    webhook = "webhook"  # a Slack-compatible JSON POST
    email = "email"  # through the SMTP_* settings


class AlertEvent(StrEnum):
    run_failed = "run_failed"  # a run failed after its retries
    auto_paused = "auto_paused"  # a schedule paused itself after N failed runs
    recovered = "recovered"  # the first success after a failure streak


class AlertStatus(StrEnum):
    pending = "pending"  # waiting for its (next) attempt at next_attempt_at
    sending = "sending"  # a worker holds it until next_attempt_at (its lease)
    sent = "sent"
    failed = "failed"  # attempts exhausted
