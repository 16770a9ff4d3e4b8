"""Request and response bodies of /schedules, /targets and /runs.

Requests are strict about shape (unknown fields are a 422 naming them) and
check types and ranges; `hookboard.services` checks the rest (URL
guard, body size, the timing itself, ownership). Responses mask the values of
secret-looking headers (`Authorization`, `X-Api-Key`, ...) as "***"; sending
"***" back in an edit keeps the stored value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from hookboard import services as service
from hookboard.core.redaction import redact_headers
from hookboard.core.whitespace import UNICODE_SPACE
from hookboard.models import Attempt, Run, Schedule, Target
from hookboard.services import MAX_ID, InvalidInput, TargetUsage
from hookboard.services.badge import badge_path

# --------------------------------------------------------------------------- field types


def _clean_text(value: str) -> str:
    try:
        return service.check_text(value, "")
    except InvalidInput as error:
        raise ValueError(error.message) from None


def _utc(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None
    if not 1900 <= value.year <= 9000:
        raise ValueError("date-time must be between the years 1900 and 9000")
    return value


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def iso_instant(value: Any) -> Any:
    """Refuse what pydantic's lax mode would read as Unix time: the schema says date-time."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time such as 2026-01-31T09:00:00Z, not a number")
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _headers(value: dict[str, str]) -> dict[str, str]:
    try:
        return service.check_headers(value)
    except InvalidInput as error:
        raise ValueError(error.message) from None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Stated in the schema only (the server strips, then needs one character left),
# so that clients and fuzzers know a blank name is refused.
NOT_BLANK = rf"^[^\x00]*[^{UNICODE_SPACE}\x00][^\x00]*$"
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_clean_text),
    Field(json_schema_extra={"pattern": NOT_BLANK}),
]
# JSON true/false only: lax mode would take 0/1 and "yes" for a boolean.
Flag = StrictBool
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    AfterValidator(_clean_text),
]
Method = Annotated[
    Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], BeforeValidator(_upper)
]
Headers = Annotated[dict[str, str], AfterValidator(_headers)]
# Checked by the service (size, NUL), which names the field: errors.field_path drops
# every "body" part of a pydantic location, so "request.body" would read "request".
Body = str
Cron = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_clean_text),
]
Timezone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_clean_text),
]
Every = Annotated[int, Field(ge=1, le=2**31 - 1)]
Instant = Annotated[AwareDatetime, BeforeValidator(iso_instant), AfterValidator(_utc)]
Kind = Literal["cron", "interval", "once", "window"]
Unit = Literal["seconds", "minutes", "hours", "days", "weeks", "months", "years"]
Backoff = Literal["fixed", "linear", "exponential"]
Timeout = Annotated[float, Field(ge=1, le=1800)]
BaseDelay = Annotated[float, Field(ge=0, le=86_400)]
MaxDelay = Annotated[float, Field(ge=0, le=604_800)]
Attempts = Annotated[int, Field(ge=1, le=20)]
Misfire = Literal["coalesce", "skip"]
AutoPauseAfter = Annotated[
    int,
    Field(
        ge=0,
        le=service.MAX_AUTO_PAUSE_AFTER,
        description="Pause after this many failed runs in a row; 0 = never.",
    ),
]
Overlap = Literal["skip", "allow"]
RunStatusName = Literal["pending", "running", "retrying", "succeeded", "failed", "skipped"]
ScheduleStatusName = Literal["active", "paused", "completed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Patch(Strict):
    """A partial update: a field left out stays as it is (None here). Those in
    NOT_NULL may be left out but not set to null, and the JSON schema says so."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("must not be null")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema)["properties"]
        for name in cls.NOT_NULL:
            _drop_null(properties[name])
        return schema


def _drop_null(prop: dict[str, Any]) -> None:
    kept = [option for option in prop.pop("anyOf", []) if option.get("type") != "null"]
    if len(kept) == 1:
        prop.update(kept[0])
    elif kept:
        prop["anyOf"] = kept
    if prop.get("default", 0) is None:
        del prop["default"]


# --------------------------------------------------------------------------- schedules


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
                url=schedule.url,
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


class LatencyPercentiles(BaseModel):
    p50: float | None
    p95: float | None
    p99: float | None


class LagPercentiles(BaseModel):
    p50: float | None
    p99: float | None


class RunCounts(BaseModel):
    total: int
    succeeded: int
    failed: int
    skipped: int
    pending: int
    running: int
    retrying: int


class ScheduleStatsOut(BaseModel):
    schedule_id: int
    window: str
    since: datetime
    until: datetime
    runs: RunCounts
    success_rate: float | None = Field(description="succeeded / (succeeded + failed); null: none.")
    latency_ms: LatencyPercentiles
    fire_lag_ms: LagPercentiles = Field(
        description="First attempt's start minus the run's scheduled instant."
    )
    sample_size: int = Field(description="Runs the percentiles were computed over.")


# --------------------------------------------------------------------------- targets


class TargetCreate(Strict):
    name: Name
    url: Url
    method: Method = "POST"
    headers: Headers = Field(default_factory=dict)
    body: Body | None = None


class TargetUpdate(Patch):
    NOT_NULL = frozenset({"name", "url", "method", "headers"})

    name: Name | None = None
    url: Url | None = None
    method: Method | None = None
    headers: Headers | None = None
    body: Body | None = None

    def to_changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ScheduleRef(BaseModel):
    id: int
    name: str


class TargetPublic(BaseModel):
    id: int
    name: str
    url: str
    method: str
    headers: dict[str, str]
    body: str | None
    schedule_count: int = Field(description="How many schedules use this target.")
    schedules: list[ScheduleRef] = Field(description="The first 20 of them.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, target: Target, usage: TargetUsage) -> TargetPublic:
        return cls(
            id=target.id,
            name=target.name,
            url=target.url,
            method=target.method,
            headers=redact_headers(target.headers or {}),
            body=target.body,
            schedule_count=usage.count,
            schedules=[ScheduleRef(id=i, name=n) for i, n in usage.schedules],
            created_at=target.created_at,
            updated_at=target.updated_at,
        )


class TargetPage(BaseModel):
    items: list[TargetPublic]
    next_cursor: str | None


class DeliveryRequestIn(Strict):
    url: Url
    method: Method = "POST"
    headers: Headers = Field(default_factory=dict)
    body: Body | None = None


class TargetTest(Strict):
    request: DeliveryRequestIn
    timeout_seconds: Timeout | None = Field(None, description="Default DEFAULT_TIMEOUT_SECONDS.")
    follow_redirects: Flag = False


class TargetTestResult(BaseModel):
    status_code: int | None
    latency_ms: float
    error_class: str
    error_message: str | None
    response_headers: dict[str, str]
    body_excerpt: str


# --------------------------------------------------------------------------- runs


class RunPublic(BaseModel):
    id: int
    schedule_id: int
    scheduled_for: datetime
    trigger: str
    status: RunStatusName
    attempt_count: int
    max_attempts: int
    status_code: int | None
    latency_ms: float | None
    error_class: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, run: Run) -> RunPublic:
        return cls.model_validate(run, from_attributes=True)


class AttemptRequest(BaseModel):
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


class AttemptResponse(BaseModel):
    status_code: int | None
    headers: dict[str, str]
    body_excerpt: str | None


class AttemptPublic(BaseModel):
    id: int
    number: int
    started_at: datetime
    latency_ms: float | None
    error_class: str
    error_message: str | None
    status_code: int | None
    request: AttemptRequest
    response: AttemptResponse

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptPublic:
        return cls(
            id=attempt.id,
            number=attempt.number,
            started_at=attempt.started_at,
            latency_ms=attempt.latency_ms,
            error_class=attempt.error_class,
            error_message=attempt.error_message,
            status_code=attempt.status_code,
            request=AttemptRequest(
                method=attempt.request_method,
                url=attempt.request_url,
                headers=redact_headers(attempt.request_headers or {}),
                body=attempt.request_body,
            ),
            response=AttemptResponse(
                status_code=attempt.status_code,
                headers=redact_headers(attempt.response_headers or {}),
                body_excerpt=attempt.response_body,
            ),
        )


class RunDetail(RunPublic):
    attempts: list[AttemptPublic]


class RunPage(BaseModel):
    items: list[RunPublic]
    next_cursor: str | None


class ReplayResponse(BaseModel):
    run_id: int
