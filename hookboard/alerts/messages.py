"""What an alert says: a subject, a plain text and structured details. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hookboard.domain.templating import format_instant
from hookboard.models import AlertEvent

ERROR_SHOWN_CHARS = 300


@dataclass(frozen=True)
class AlertMessage:
    event: str
    workspace_id: int
    schedule_id: int | None
    run_id: int | None
    subject: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleRef:
    id: int
    workspace_id: int
    name: str


def _label(schedule: ScheduleRef) -> str:
    return f"“{schedule.name}” (id {schedule.id})"


def describe_error(error_class: str | None, status_code: int | None, message: str | None) -> str:
    """One line for people: `http_5xx (HTTP 503)`, `timeout: no complete response ...`."""
    text = error_class or "failed"
    if status_code is not None:
        text += f" (HTTP {status_code})"
    elif message:
        text += f": {message}"
    return text[:ERROR_SHOWN_CHARS]


def run_failed(
    schedule: ScheduleRef, *, run_id: int, attempts: int, error: str, failures: int = 1
) -> AlertMessage:
    noun = "attempt" if attempts == 1 else "attempts"
    text = f"Run {run_id} of schedule {_label(schedule)} failed after {attempts} {noun}: {error}."
    if failures > 1:
        text += (
            f" That is {failures:,} failed runs in a row; the next alert comes at "
            f"{failures * 10:,} or when a run succeeds."
        )
    return AlertMessage(
        event=AlertEvent.run_failed,
        workspace_id=schedule.workspace_id,
        schedule_id=schedule.id,
        run_id=run_id,
        subject=f"Run failed: {schedule.name}"
        + (f" ({failures:,} in a row)" if failures > 1 else ""),
        text=text,
        details={"attempts": attempts, "error": error, "consecutive_failures": failures},
    )


def auto_paused(schedule: ScheduleRef, *, failures: int, reason: str) -> AlertMessage:
    return AlertMessage(
        event=AlertEvent.auto_paused,
        workspace_id=schedule.workspace_id,
        schedule_id=schedule.id,
        run_id=None,
        subject=f"Schedule paused: {schedule.name}",
        text=f"Schedule {_label(schedule)} paused itself: {reason}. "
        "Resume it once its endpoint works again.",
        details={"consecutive_failures": failures, "paused_reason": reason},
    )


def recovered(schedule: ScheduleRef, *, run_id: int, failing_since: datetime) -> AlertMessage:
    since = format_instant(failing_since)
    return AlertMessage(
        event=AlertEvent.recovered,
        workspace_id=schedule.workspace_id,
        schedule_id=schedule.id,
        run_id=run_id,
        subject=f"Schedule recovered: {schedule.name}",
        text=f"Schedule {_label(schedule)} recovered: run {run_id} succeeded "
        f"after failures since {since}.",
        details={"failing_since": since},
    )


def test_message(workspace_id: int, channel_name: str) -> AlertMessage:
    return AlertMessage(
        event="test",
        workspace_id=workspace_id,
        schedule_id=None,
        run_id=None,
        subject="Test alert",
        text=f"This is a test alert from Hookboard to the channel “{channel_name}”.",
    )


def auto_pause_reason(failures: int, last_error: str) -> str:
    return f"auto-paused after {failures} failed runs in a row (last: {last_error})"
