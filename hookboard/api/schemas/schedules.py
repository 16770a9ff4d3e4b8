"""Request and response bodies of /schedules: create, edit, read, preview, trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from hookboard import services as service
from hookboard.api.schemas.common import (
    Body,
    Flag,
    Headers,
    Id,
    Instant,
    Method,
    Name,
    Patch,
    Strict,
    Timeout,
    Url,
    clean_text,
)
from hookboard.core.redaction import redact_headers, redact_url
from hookboard.domain.limits import (
    BACKOFFS,
    INTERVAL_UNITS,
    MAX_CRON_CHARS,
    MAX_STORED_EVERY,
    MAX_TIMEZONE_CHARS,
    MISFIRES,
    OVERLAPS,
    SCHEDULE_KINDS,
)
from hookboard.models import Run, Schedule
from hookboard.services.badge import badge_path
from hookboard.services.fields import ranged

Cron = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CRON_CHARS),
    AfterValidator(clean_text),
]
Timezone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TIMEZONE_CHARS),
    AfterValidator(clean_text),
]
Every = Annotated[int, Field(ge=1, le=MAX_STORED_EVERY)]
Kind = Literal[SCHEDULE_KINDS]
Unit = Literal[INTERVAL_UNITS]
Backoff = Literal[BACKOFFS]
BaseDelay = ranged(float, "base_delay_seconds")
MaxDelay = ranged(float, "max_delay_seconds")
Attempts = ranged(int, "max_attempts")
Misfire = Literal[MISFIRES]
AutoPauseAfter = Annotated[
    ranged(int, "auto_pause_after"),
    Field(description="Pause after this many failed runs in a row; 0 = never."),
]
Overlap = Literal[OVERLAPS]
ScheduleStatusName = Literal["active", "paused", "completed"]


class RequestIn(Strict):
    """The HTTP request; with `target_id`, each given field overrides the target's."""

    url: Url | None = Field(None, description="http(s) URL; required without target_id.")
    method: Method | None = Field(None, description="Default POST.")
    headers: Headers | None = None
    body: Body | None = Field(None, description="At most MAX_WEBHOOK_BODY_BYTES bytes.")


class RetryIn(Strict):
    max_attempts: Attempts = 3
    backoff: Backoff = "exponential"
    base_delay_seconds: BaseDelay = 10.0
    max_delay_seconds: MaxDelay = 3600.0
    jitter: Flag = True


class Timing(Strict):
    kind: Kind
    cron: Cron | None = Field(None, description="cron only: 5 fields, or 6 with seconds last.")
    timezone: Timezone = Field("UTC", description="IANA zone the schedule is evaluated in.")
    every: Every | None = Field(None, description="interval/window: the step, in `unit`s.")
    unit: Unit | None = None
    run_at: Instant | None = Field(None, description="once: the instant.")
    starts_at: Instant | None = None
    ends_at: Instant | None = None

    def timing_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in service.TIMING_FIELDS}


class ScheduleCreate(Timing):
    name: Name
    request: RequestIn | None = None
    target_id: Id | None = None
    follow_redirects: Flag = False
    timeout_seconds: Timeout | None = Field(
        None, description="1 to 1800; default DEFAULT_TIMEOUT_SECONDS."
    )
    retry: RetryIn = Field(default_factory=RetryIn)
    misfire: Misfire = "coalesce"
    overlap: Overlap = "skip"
    paused: Flag = False
    auto_pause_after: AutoPauseAfter = 15
    badge: Flag = Field(False, description="Publish a status badge at a public, random URL.")

    def to_fields(self) -> dict[str, Any]:
        """Storage column -> value (None for 'not given')."""
        request = self.request or RequestIn()
        return {
            "name": self.name,
            **self.timing_fields(),
            "target_id": self.target_id,
            "url": request.url,
            "method": request.method,
            "headers": request.headers,
            "body": request.body,
            "follow_redirects": self.follow_redirects,
            "timeout_seconds": self.timeout_seconds,
            **self.retry.model_dump(),
            "misfire": self.misfire,
            "overlap": self.overlap,
            "auto_pause_after": self.auto_pause_after,
            "badge": self.badge,
        }


class RequestPatch(Strict):
    url: Url | None = None
    method: Method | None = None
    headers: Headers | None = None
    body: Body | None = None


class RetryPatch(Patch):
    NOT_NULL = frozenset(
        {"max_attempts", "backoff", "base_delay_seconds", "max_delay_seconds", "jitter"}
    )

    max_attempts: Attempts | None = None
    backoff: Backoff | None = None
    base_delay_seconds: BaseDelay | None = None
    max_delay_seconds: MaxDelay | None = None
    jitter: Flag | None = None


class ScheduleUpdate(Patch):
    """Only the fields given change; `null` clears an optional field."""

    NOT_NULL = frozenset(
        {"name", "kind", "timezone", "request", "follow_redirects", "timeout_seconds", "retry"}
        | {"misfire", "overlap", "paused", "auto_pause_after", "badge"}
    )

    name: Name | None = None
    kind: Kind | None = None
    cron: Cron | None = None
    timezone: Timezone | None = None
    every: Every | None = None
    unit: Unit | None = None
    run_at: Instant | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    request: RequestPatch | None = None
    target_id: Id | None = None
    follow_redirects: Flag | None = None
    timeout_seconds: Timeout | None = None
    retry: RetryPatch | None = None
    misfire: Misfire | None = None
    overlap: Overlap | None = None
    paused: Flag | None = None
    auto_pause_after: AutoPauseAfter | None = None
    badge: Flag | None = Field(None, description="Off retires the badge URL; on issues a new one.")

    def to_changes(self) -> dict[str, Any]:
        changes = {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name not in ("request", "retry")
        }
        if self.request is not None:
            changes.update({n: getattr(self.request, n) for n in self.request.model_fields_set})
        if self.retry is not None:
            changes.update({n: getattr(self.retry, n) for n in self.retry.model_fields_set})
        return changes


class RequestOut(BaseModel):
    url: str | None
    method: str | None
    headers: dict[str, str]
    body: str | None


class RetryOut(BaseModel):
    max_attempts: int
    backoff: str
    base_delay_seconds: float
    max_delay_seconds: float
    jitter: bool


class LastRun(BaseModel):
    id: int
    status: str
    scheduled_for: datetime
    status_code: int | None


class SchedulePublic(BaseModel):
    id: int
    name: str
    status: ScheduleStatusName
    paused_reason: str | None
    kind: str
    cron: str | None
    timezone: str
    every: int | None
    unit: str | None
    run_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    target_id: int | None
    request: RequestOut
    follow_redirects: bool
    timeout_seconds: float
    retry: RetryOut
    misfire: str
    overlap: str
    next_run_at: datetime | None
    last_run: LastRun | None
    auto_pause_after: int = Field(description="Pause after this many failed runs in a row.")
    consecutive_failures: int = Field(description="Failed runs in a row (reset by resume).")
    failing_since: datetime | None = Field(
        description="When the current failure streak began; null: the last run succeeded."
    )
    badge_url: str | None = Field(description="Path of the public status badge; null: off.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, schedule: Schedule, last_run: Run | None) -> SchedulePublic:
        return cls(
            id=schedule.id,
            name=schedule.name,
            status=schedule.status,
            paused_reason=schedule.paused_reason,
            kind=schedule.kind,
            cron=schedule.cron,
            timezone=schedule.timezone,
            every=schedule.every,
            unit=schedule.unit,
            run_at=schedule.run_at,
            starts_at=schedule.starts_at,
            ends_at=schedule.ends_at,
            target_id=schedule.target_id,
            request=RequestOut(
                url=redact_url(schedule.url),
                method=schedule.method,
                headers=redact_headers(schedule.headers or {}),
                body=schedule.body,
            ),
            follow_redirects=schedule.follow_redirects,
            timeout_seconds=schedule.timeout_seconds,
            retry=RetryOut(
                max_attempts=schedule.max_attempts,
                backoff=schedule.backoff,
                base_delay_seconds=schedule.base_delay_seconds,
                max_delay_seconds=schedule.max_delay_seconds,
                jitter=schedule.jitter,
            ),
            misfire=schedule.misfire,
            overlap=schedule.overlap,
            next_run_at=schedule.next_run_at,
            last_run=None
            if last_run is None
            else LastRun(
                id=last_run.id,
                status=last_run.status,
                scheduled_for=last_run.scheduled_for,
                status_code=last_run.status_code,
            ),
            auto_pause_after=schedule.auto_pause_after,
            consecutive_failures=schedule.consecutive_failures,
            failing_since=schedule.failing_since,
            badge_url=badge_path(schedule.badge_token) if schedule.badge_token else None,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
        )


class SchedulePage(BaseModel):
    items: list[SchedulePublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class PreviewRequest(Timing):
    """A schedule's timing fields; other fields of a create body are ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    count: int = Field(5, ge=1, le=50, description="How many firings to list.")


class PreviewResponse(BaseModel):
    description: str
    timezone: str
    next: list[datetime] = Field(description="Next firings, as offsets of the schedule's zone.")


class TriggerResponse(BaseModel):
    run_id: int
