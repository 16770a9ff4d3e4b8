"""Failure streaks, auto-pause and the alerts they raise, inside the outcome's transaction.

`record_run_ends` is called by `delivery.record_outcomes` with the runs that
just finished (succeeded, or failed after their retries). A failure counts
towards the schedule's streak; the streak's first failure raises
`run_failed`, and so do its 10th, 100th, 1,000th... as reminders (a schedule
failing every few seconds must not send an alert each time, nor a daily one
go quiet for good); at `auto_pause_after` failures in a row an active schedule
pauses itself with a reason and raises `auto_paused`; the first success
after a streak raises `recovered` and resets it. Alerts go into the outbox,
one row per enabled channel of the owner, in the same transaction, so none is
lost to a crash or to Redis.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from hookboard.alerts import messages
from hookboard.alerts.messages import AlertMessage, ScheduleRef
from hookboard.core.audit_rows import audit_row
from hookboard.models import (
    Alert,
    AlertStatus,
    AuditEvent,
    NotificationChannel,
    Schedule,
    ScheduleStatus,
)

schedules = Schedule.__table__
channels = NotificationChannel.__table__
alerts = Alert.__table__
audit_events = AuditEvent.__table__

PAUSED_REASON_LIMIT = 500


@dataclass(frozen=True)
class RunEnd:
    """A run that reached its final status."""

    run_id: int
    schedule_id: int
    scheduled_for: datetime
    succeeded: bool
    attempts: int
    error: str | None = None  # describe_error() of the last attempt, for failures


@dataclass
class Streak:
    """A schedule's failure streak as stored, moved on one run at a time. Pure."""

    schedule: ScheduleRef
    status: str
    failures: int
    failing_since: datetime | None
    auto_pause_after: int
    paused_reason: str | None = None
    paused_now: bool = False

    def advance(self, end: RunEnd) -> list[AlertMessage]:
        if end.succeeded:
            raised = []
            if self.failing_since is not None:
                raised.append(
                    messages.recovered(
                        self.schedule, run_id=end.run_id, failing_since=self.failing_since
                    )
                )
            self.failures, self.failing_since = 0, None
            return raised
        self.failures += 1
        self.failing_since = self.failing_since or end.scheduled_for
        error = end.error or "failed"
        raised = []
        if announces(self.failures):
            raised.append(
                messages.run_failed(
                    self.schedule,
                    run_id=end.run_id,
                    attempts=end.attempts,
                    error=error,
                    failures=self.failures,
                )
            )
        if self._should_pause():
            reason = messages.auto_pause_reason(self.failures, error)[:PAUSED_REASON_LIMIT]
            self.status, self.paused_reason, self.paused_now = ScheduleStatus.paused, reason, True
            raised.append(
                messages.auto_paused(self.schedule, failures=self.failures, reason=reason)
            )
        return raised

    def _should_pause(self) -> bool:
        return (
            self.status == ScheduleStatus.active
            and self.auto_pause_after > 0
            and self.failures >= self.auto_pause_after
        )


def announces(failures: int) -> bool:
    """Whether the streak's `failures`-th failed run raises run_failed: 1, 10, 100, ..."""
    return failures >= 1 and str(failures).rstrip("0") == "1"


def lock_streaks(connection: Connection, ends: list[RunEnd]) -> list[Streak]:
    """Lock and read the streaks these runs may move on (call it before locking the runs)."""
    touched = _schedules_to_touch(connection, _by_schedule(ends))
    return _load_streaks(connection, touched) if touched else []


def record_run_ends(
    connection: Connection, streaks: list[Streak], ends: list[RunEnd], now: datetime
) -> int:
    """Move the locked streaks on and queue their alerts; returns alerts queued."""
    by_schedule = _by_schedule(ends)
    raised: list[AlertMessage] = []
    for streak in streaks:
        for end in by_schedule.get(streak.schedule.id, []):
            raised.extend(streak.advance(end))
    _save_streaks(connection, streaks, now)
    return queue_alerts(connection, raised, now)


def _by_schedule(ends: list[RunEnd]) -> dict[int, list[RunEnd]]:
    by_schedule: dict[int, list[RunEnd]] = defaultdict(list)
    for end in sorted(ends, key=lambda e: e.run_id):
        by_schedule[end.schedule_id].append(end)
    return by_schedule


def _schedules_to_touch(connection: Connection, by_schedule: dict[int, list[RunEnd]]) -> list[int]:
    """Schedules with a failure, or a success ending a streak; most batches have none."""
    with_failure = {sid for sid, ends in by_schedule.items() if not all(e.succeeded for e in ends)}
    only_successes = [sid for sid in by_schedule if sid not in with_failure]
    streaking: set[int] = set()
    if only_successes:
        streaking = set(connection.execute(_STREAKING, {"ids": only_successes}).scalars())
    return sorted(with_failure | streaking)


_STREAKING = select(schedules.c.id).where(
    schedules.c.id.in_(bindparam("ids", expanding=True)),
    (schedules.c.consecutive_failures > 0) | schedules.c.failing_since.is_not(None),
)


def _load_streaks(connection: Connection, schedule_ids: list[int]) -> list[Streak]:
    query = (
        select(
            schedules.c.id,
            schedules.c.workspace_id,
            schedules.c.name,
            schedules.c.status,
            schedules.c.consecutive_failures,
            schedules.c.failing_since,
            schedules.c.auto_pause_after,
        )
        .where(schedules.c.id.in_(schedule_ids))
        .order_by(schedules.c.id)  # one lock order for every writer
    )
    if connection.dialect.name == "postgresql":
        # NO KEY UPDATE: a run inserted for the schedule meanwhile (its foreign
        # key check) need not wait for this.
        query = query.with_for_update(key_share=True)
    return [
        Streak(
            schedule=ScheduleRef(row.id, row.workspace_id, row.name),
            status=row.status,
            failures=row.consecutive_failures,
            failing_since=row.failing_since,
            auto_pause_after=row.auto_pause_after,
        )
        for row in connection.execute(query)
    ]


def _save_streaks(connection: Connection, streaks: list[Streak], now: datetime) -> None:
    connection.execute(
        update(schedules)
        .where(schedules.c.id == bindparam("b_id"))
        .values(
            consecutive_failures=bindparam("b_failures"),
            failing_since=bindparam("b_failing_since"),
        ),
        [
            {"b_id": s.schedule.id, "b_failures": s.failures, "b_failing_since": s.failing_since}
            for s in streaks
        ],
    )
    paused = [s for s in streaks if s.paused_now]
    if paused:
        connection.execute(
            update(schedules)
            .where(
                schedules.c.id == bindparam("b_id"),
                schedules.c.status == ScheduleStatus.active,
            )
            .values(
                status=ScheduleStatus.paused,
                paused_reason=bindparam("b_reason"),
                next_run_at=None,
                updated_at=now,
            ),
            [{"b_id": s.schedule.id, "b_reason": s.paused_reason} for s in paused],
        )
        # The audit log's row, in the same transaction as the pause itself.
        connection.execute(insert(audit_events), [_auto_pause_row(s, now) for s in paused])


def _auto_pause_row(streak: Streak, now: datetime) -> dict:
    return audit_row(
        workspace_id=streak.schedule.workspace_id,
        at=now,
        action="schedule.auto_pause",
        object_type="schedule",
        object_id=streak.schedule.id,
        changes={
            "status": [ScheduleStatus.active.value, ScheduleStatus.paused.value],
            "paused_reason": [None, streak.paused_reason],
            "consecutive_failures": [None, streak.failures],
        },
        actor_type="system",
    )


def queue_alerts(connection: Connection, raised: list[AlertMessage], now: datetime) -> int:
    """One outbox row per message and enabled channel of its user."""
    if not raised:
        return 0
    targets: dict[int, list[int]] = defaultdict(list)
    for channel_id, workspace_id in connection.execute(
        select(channels.c.id, channels.c.workspace_id)
        .where(
            channels.c.workspace_id.in_({m.workspace_id for m in raised}),
            channels.c.enabled.is_(True),
        )
        .order_by(channels.c.id)
    ):
        targets[workspace_id].append(channel_id)
    rows = [
        _outbox_row(message, channel_id, now)
        for message in raised
        for channel_id in targets.get(message.workspace_id, [])
    ]
    if rows:
        connection.execute(insert(alerts), rows)
    return len(rows)


def _outbox_row(message: AlertMessage, channel_id: int, now: datetime) -> dict:
    return {
        "workspace_id": message.workspace_id,
        "channel_id": channel_id,
        "schedule_id": message.schedule_id,
        "run_id": message.run_id,
        "event": message.event,
        "subject": message.subject[:300],
        "text": message.text,
        "details": message.details,
        "status": AlertStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
