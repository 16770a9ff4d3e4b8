"""The export document: its format version, bounds and item types, and parsing it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
)

from hookboard.domain.limits import (
    BACKOFFS,
    HTTP_METHODS,
    INTERVAL_UNITS,
    MAX_CRON_CHARS,
    MAX_NAME_CHARS,
    MAX_STORED_EVERY,
    MAX_TIMEZONE_CHARS,
    MAX_URL_CHARS,
    MISFIRES,
    OVERLAPS,
    SCHEDULE_KINDS,
)
from hookboard.models import Schedule
from hookboard.services import InvalidInput
from hookboard.services.fields import ranged, utc_instant

FORMAT_VERSION = 1


# Per list: 5,000 short items fill about MAX_REQUEST_BODY_BYTES' default (1 MiB).
MAX_ITEMS = 5_000


DEFAULT_AUTO_PAUSE_AFTER = Schedule.model_fields["auto_pause_after"].default  # as POST /schedules


def _text_or_datetime(value: Any) -> Any:
    # Lax pydantic would read a number as Unix time; the document holds ISO 8601 text.
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]


Text = Annotated[str, StringConstraints(max_length=MAX_URL_CHARS)]


Instant = Annotated[AwareDatetime, BeforeValidator(_text_or_datetime), AfterValidator(utc_instant)]


Method = Literal[HTTP_METHODS]


Attempts = ranged(int, "max_attempts")
BaseDelay = ranged(float, "base_delay_seconds")
MaxDelay = ranged(float, "max_delay_seconds")
Timeout = ranged(float, "timeout_seconds")
AutoPauseAfter = ranged(int, "auto_pause_after")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RequestItem(_Strict):
    url: Text | None = None
    method: Method | None = None
    headers: dict[str, str] | None = None
    body: str | None = None


class RetryItem(_Strict):
    max_attempts: Attempts = 3
    backoff: Literal[BACKOFFS] = "exponential"
    base_delay_seconds: BaseDelay = 10.0
    max_delay_seconds: MaxDelay = 3600.0
    jitter: StrictBool = True


class TargetItem(_Strict):
    name: Name
    url: Text
    method: Method = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


class ScheduleItem(_Strict):
    name: Name
    kind: Literal[SCHEDULE_KINDS]
    cron: Annotated[str, StringConstraints(max_length=MAX_CRON_CHARS)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=MAX_TIMEZONE_CHARS)] = "UTC"
    every: Annotated[int, Field(ge=1, le=MAX_STORED_EVERY)] | None = None
    unit: Literal[INTERVAL_UNITS] | None = None
    run_at: Instant | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    target: Name | None = Field(None, description="A target's name (in the document or account).")
    request: RequestItem = Field(default_factory=RequestItem)
    follow_redirects: StrictBool = False
    timeout_seconds: Timeout | None = None
    retry: RetryItem = Field(default_factory=RetryItem)
    misfire: Literal[MISFIRES] = "coalesce"
    overlap: Literal[OVERLAPS] = "skip"
    paused: StrictBool = False
    auto_pause_after: AutoPauseAfter = Field(
        DEFAULT_AUTO_PAUSE_AFTER, description="Failed runs in a row before a pause; 0 = never."
    )
    badge: StrictBool = Field(False, description="Publish a status badge (a new random URL).")


class ScheduleDocument(_Strict):
    version: Literal[1] = FORMAT_VERSION
    exported_at: Annotated[datetime | None, BeforeValidator(_text_or_datetime)] = None
    targets: Annotated[list[TargetItem], Field(max_length=MAX_ITEMS)] = Field(default_factory=list)
    schedules: Annotated[list[ScheduleItem], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )


def parse_document(document: Any) -> ScheduleDocument:
    """A ScheduleDocument from parsed JSON; InvalidInput names the first bad field."""
    if isinstance(document, ScheduleDocument):
        return document
    try:
        return ScheduleDocument.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidInput(path, first["msg"].removeprefix("Value error, ")) from None


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite hands back naive UTC
        return value.replace(tzinfo=UTC)
    return value
