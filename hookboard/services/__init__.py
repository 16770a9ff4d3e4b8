"""Schedules, targets and runs as the API and the dashboard see them.

Keyword-only functions that take a Session. They validate everything they are
given (the API's pydantic models only add types and ranges in front), raise the
errors below, flush, and never commit: the caller's transaction decides. No
FastAPI here; the routes map the errors to HTTP:

* `InvalidInput(field, message)` -> 422, `field` a dotted API path ("request.url");
* `NotFound(what)` -> 404; another user's row is "not found" exactly like a missing one;
* `Conflict(message, code=..., field=...)` -> 409.

Lists use keyset pagination on the primary key with an opaque cursor, so a page
a million rows deep costs what the first page costs (runs: index (user_id, id)
or (schedule_id, id), walked newest first).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets as _random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Row, Select, and_, bindparam, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hookboard.core.redaction import MASK, is_secret_header
from hookboard.core.secrets import live_secrets
from hookboard.domain import templating
from hookboard.domain.firing import first_run_at, spec_for
from hookboard.domain.schedules import (
    ScheduleSpec,
    ScheduleSpecError,
    describe,
    next_fires,
    validate,
)
from hookboard.domain.signing import delivery_headers
from hookboard.models import (
    Attempt,
    Run,
    RunStatus,
    Schedule,
    ScheduleStatus,
    Target,
)
from hookboard.net.attempt import (
    AttemptOutcome,
    OutboundRequest,
    make_client,
    send_attempt,
)
from hookboard.net.guard import BlockedAddressError, NetPolicy, check_url
from hookboard.services.badge import new_badge_token
from hookboard.settings import Settings, get_settings

T = TypeVar("T")

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_METHOD = "POST"
MAX_ID = 2**63 - 1
MAX_HEADERS = 100
MAX_HEADER_NAME_CHARS = 256
MAX_HEADER_VALUE_CHARS = 8192
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# httpx sends header values as ASCII; tab and printable characters only.
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# Schedule names shown in a "target in use" conflict and in target listings.
USED_BY_SHOWN = 20
# Percentiles are computed over at most this many of the window's newest runs.
STATS_SAMPLE_LIMIT = 50_000
PREVIEW_COUNT = 5
MAX_AUTO_PAUSE_AFTER = 1000  # failed runs in a row; 0 turns auto-pause off

TIMING_FIELDS = ("kind", "cron", "timezone", "every", "unit", "run_at", "starts_at", "ends_at")
# Fields that only mean something for some kinds.
_KIND_FIELDS = {
    "cron": ("cron",),
    "every": ("interval", "window"),
    "unit": ("interval", "window"),
    "run_at": ("once",),
}
# Storage column -> the API field that holds it (error messages name the API field).
FIELD_PATHS = {
    "url": "request.url",
    "method": "request.method",
    "headers": "request.headers",
    "body": "request.body",
    "max_attempts": "retry.max_attempts",
    "backoff": "retry.backoff",
    "base_delay_seconds": "retry.base_delay_seconds",
    "max_delay_seconds": "retry.max_delay_seconds",
    "jitter": "retry.jitter",
    "anchor": "starts_at",
}
SCHEDULE_COLUMNS = frozenset(
    {
        "name",
        *TIMING_FIELDS,
        "target_id",
        "url",
        "method",
        "headers",
        "body",
        "timeout_seconds",
        "follow_redirects",
        "max_attempts",
        "backoff",
        "base_delay_seconds",
        "max_delay_seconds",
        "jitter",
        "misfire",
        "overlap",
        "auto_pause_after",
    }
)
# Columns a partial edit may not set to null.
_NON_NULL = frozenset(
    {
        "name",
        "kind",
        "timezone",
        "timeout_seconds",
        "follow_redirects",
        "max_attempts",
        "backoff",
        "base_delay_seconds",
        "max_delay_seconds",
        "jitter",
        "misfire",
        "overlap",
        "auto_pause_after",
    }
)
_CHOICES = {
    "backoff": ("fixed", "linear", "exponential"),
    "misfire": ("coalesce", "skip"),
    "overlap": ("skip", "allow"),
}
_RANGES = {
    "timeout_seconds": (1, 1800),
    "max_attempts": (1, 20),
    "base_delay_seconds": (0, 86_400),
    "max_delay_seconds": (0, 604_800),
    "auto_pause_after": (0, MAX_AUTO_PAUSE_AFTER),
}


# --------------------------------------------------------------------------- errors


class ServiceError(Exception):
    pass


class InvalidInput(ServiceError):
    def __init__(self, field: str | None, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class NotFound(ServiceError):
    def __init__(self, what: str):
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(ServiceError):
    def __init__(self, message: str, *, code: str = "conflict", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ServiceConfig:
    """The settings this module enforces; `from_settings()` reads the process's."""

    policy: NetPolicy = field(default_factory=NetPolicy)
    max_body_bytes: int = 262_144
    max_schedules_per_user: int = 10_000
    default_timeout_seconds: float = 30.0
    excerpt_bytes: int = 65_536

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ServiceConfig:
        settings = settings or get_settings()
        return cls(
            policy=NetPolicy.from_strings(
                settings.allow_private_targets, settings.private_target_allowlist
            ),
            max_body_bytes=settings.max_webhook_body_bytes,
            max_schedules_per_user=settings.max_schedules_per_user,
            default_timeout_seconds=settings.default_timeout_seconds,
            excerpt_bytes=settings.response_excerpt_bytes,
        )


# --------------------------------------------------------------------------- field checks


def api_field(column: str) -> str:
    return FIELD_PATHS.get(column, column)


def check_text(value: str, field: str) -> str:
    """Text the databases can store: no NUL (PostgreSQL refuses it), valid Unicode."""
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, "must be valid Unicode text") from None
    return value


def check_url_allowed(url: str, policy: NetPolicy, field: str = "request.url") -> str:
    """http/https only, and no IP literal the delivery guard would refuse."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(field, "a URL is required")
    url = url.strip()
    check_text(url, field)
    if len(url) > 2048:
        raise InvalidInput(field, "must be at most 2048 characters")
    try:
        check_url(url, policy)
    except BlockedAddressError as error:
        raise InvalidInput(field, f"not allowed: {error}") from None
    except ValueError as error:
        raise InvalidInput(field, str(error)) from None
    return url


def check_method(method: str, field: str = "request.method") -> str:
    normalised = method.strip().upper() if isinstance(method, str) else ""
    if normalised not in HTTP_METHODS:
        raise InvalidInput(field, f"must be one of {', '.join(HTTP_METHODS)}")
    return normalised


def check_headers(headers: dict[str, str], field: str = "request.headers") -> dict[str, str]:
    """Names are HTTP tokens; values printable ASCII, never CR or LF (header injection)."""
    if not isinstance(headers, dict):
        raise InvalidInput(field, "must be an object of header names to values")
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(field, f"at most {MAX_HEADERS} headers")
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidInput(field, "header names and values must be strings")
        shown = name if len(name) <= 40 and name.isprintable() else f"{name[:40]!r}..."
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise InvalidInput(field, f"header {shown!r}: must not contain CR or LF")
        if not name or len(name) > MAX_HEADER_NAME_CHARS or not _HEADER_NAME.match(name):
            raise InvalidInput(field, f"header name {shown!r} is not a valid HTTP header name")
        if len(value) > MAX_HEADER_VALUE_CHARS:
            raise InvalidInput(field, f"header {shown!r}: value longer than 8192 characters")
        if not _HEADER_VALUE.match(value):
            raise InvalidInput(field, f"header {shown!r}: value must be printable ASCII")
        if name.lower() in seen:
            raise InvalidInput(field, f"header {shown!r} is given twice")
        seen.add(name.lower())
    return dict(headers)


def check_body(body: str, max_bytes: int, field: str = "request.body") -> str:
    check_text(body, field)
    size = len(body.encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(field, f"is {size} bytes; at most {max_bytes} bytes are allowed")
    return body


def keep_masked_secrets(new: dict[str, str], old: dict[str, str] | None) -> dict[str, str]:
    """A masked value sent back ("***", as GET shows it) keeps the stored secret."""
    old_by_name = {name.lower(): value for name, value in (old or {}).items()}
    kept = {}
    for name, value in new.items():
        if value == MASK and is_secret_header(name) and name.lower() in old_by_name:
            value = old_by_name[name.lower()]
        kept[name] = value
    return kept


def _check_request_fields(
    fields: dict[str, Any], config: ServiceConfig, *, flat: bool = False
) -> None:
    """Normalise and check url/method/headers/body present in `fields` (in place)."""

    def path(column: str) -> str:
        return column if flat else api_field(column)

    if fields.get("url") is not None:
        fields["url"] = check_templated_url(fields["url"], config.policy, path("url"))
    if fields.get("method") is not None:
        fields["method"] = check_method(fields["method"], path("method"))
    if "headers" in fields:
        fields["headers"] = check_headers(fields["headers"] or {}, path("headers"))
        for value in fields["headers"].values():
            _check_template(value, path("headers"))
    if fields.get("body") is not None:
        fields["body"] = check_body(fields["body"], config.max_body_bytes, path("body"))
        _check_template(fields["body"], path("body"))


def _check_template(text: str, field: str) -> None:
    try:
        templating.check_template(text)
    except templating.TemplateError as error:
        raise InvalidInput(field, str(error)) from None


def check_templated_url(url: str, policy: NetPolicy, field: str = "request.url") -> str:
    """A URL that may hold template variables: checked as it will be sent (samples filled in);
    the scheme and host may not be templated."""
    if not isinstance(url, str) or not templating.has_template(url):
        return check_url_allowed(url, policy, field)
    url = url.strip()
    try:
        sample = templating.check_url_template(url)
    except templating.TemplateError as error:
        raise InvalidInput(field, str(error)) from None
    if len(url) > 2048:
        raise InvalidInput(field, "must be at most 2048 characters")
    check_url_allowed(sample, policy, field)
    return url


def _check_schedule_scalars(fields: dict[str, Any]) -> None:
    for name in fields:
        if name not in SCHEDULE_COLUMNS:
            raise InvalidInput(name, "unknown field")
    for name, value in fields.items():
        if value is None and name in _NON_NULL:
            raise InvalidInput(api_field(name), "must not be null")
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name", "a name is required")
        fields["name"] = check_text(name.strip(), "name")
        if len(fields["name"]) > 200:
            raise InvalidInput("name", "must be at most 200 characters")
    for name, choices in _CHOICES.items():
        if name in fields and fields[name] not in choices:
            raise InvalidInput(api_field(name), f"must be one of {', '.join(choices)}")
    for name, (low, high) in _RANGES.items():
        value = fields.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInput(api_field(name), "must be a number")
        if not low <= value <= high:
            raise InvalidInput(api_field(name), f"must be between {low} and {high}")
    for name in ("timezone", "cron"):
        if isinstance(fields.get(name), str):
            check_text(fields[name], name)
            if len(fields[name]) > (64 if name == "timezone" else 200):
                raise InvalidInput(name, "is too long")
    every = fields.get("every")
    if every is not None and isinstance(every, int) and not 1 <= every <= 2**31 - 1:
        raise InvalidInput("every", "must be between 1 and 2147483647")
    for name in ("run_at", "starts_at", "ends_at"):
        value = fields.get(name)
        if value is not None:
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise InvalidInput(name, "must be a date-time with a time zone offset")
            fields[name] = value.astimezone(UTC)


def _check_kind_fields(schedule: Schedule, given: Iterable[str]) -> None:
    """A field that does not apply to the kind is an error when given, else cleared."""
    given = set(given)
    for name, kinds in _KIND_FIELDS.items():
        if schedule.kind in kinds or getattr(schedule, name) is None:
            continue
        if name in given:
            raise InvalidInput(name, f"only applies to {' and '.join(kinds)} schedules")
        setattr(schedule, name, None)


def _spec_error(error: ScheduleSpecError) -> InvalidInput:
    return InvalidInput(api_field(error.field), error.reason)


def _plan(schedule: Schedule, now: datetime) -> datetime:
    """Validate the timing and return the first firing from now; refuse a dead schedule."""
    try:
        validate(spec_for(schedule))
        first = first_run_at(schedule, now)
    except ScheduleSpecError as error:
        raise _spec_error(error) from None
    except (ValueError, OverflowError) as error:
        raise InvalidInput(_dead_field(schedule), f"cannot be scheduled: {error}") from None
    if first is None:
        raise InvalidInput(_dead_field(schedule), "the schedule has no firing left after now")
    return first


def _dead_field(schedule: Schedule) -> str:
    if schedule.ends_at is not None:
        return "ends_at"
    return "run_at" if schedule.kind == "once" else "starts_at"


# --------------------------------------------------------------------------- pagination


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(kind: str, last_id: int) -> str:
    raw = f"{kind}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The id a cursor continues after; InvalidInput("cursor") for anything forged or foreign."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("cursor", "invalid cursor") from None
    prefix, _, number = raw.partition(":")
    if prefix != kind or not number.isdigit() or len(number) > 19:
        raise InvalidInput("cursor", "invalid cursor")
    value = int(number)
    if not 0 < value <= MAX_ID:
        raise InvalidInput("cursor", "invalid cursor")
    return value


def _page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def _page(rows: Sequence[T], limit: int, kind: str) -> Page[T]:
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, encode_cursor(kind, items[-1].id) if more and items else None)


def _valid_id(value: int | None) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


# --------------------------------------------------------------------------- schedules


def get_schedule(
    session: Session, *, user_id: int, schedule_id: int, for_update: bool = False
) -> Schedule:
    if not _valid_id(schedule_id):
        raise NotFound("schedule")
    query = select(Schedule).where(Schedule.id == schedule_id, Schedule.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    schedule = session.exec(query).first()
    if schedule is None:
        raise NotFound("schedule")
    return schedule


def _owned_target(session: Session, user_id: int, target_id: Any) -> Target:
    target = None
    if _valid_id(target_id):
        target = session.exec(
            select(Target).where(Target.id == target_id, Target.user_id == user_id)
        ).first()
    if target is None:
        raise InvalidInput("target_id", f"target {target_id} not found")
    return target


# Built once: a statement object memoises its cache key, so each create skips rebuilding it.
_COUNT_SCHEDULES = (
    select(func.count()).select_from(Schedule).where(Schedule.user_id == bindparam("user_id"))
)


def create_schedule(
    session: Session,
    *,
    user_id: int,
    fields: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
    paused: bool = False,
) -> Schedule:
    """A new schedule from storage fields (`url`, `max_attempts`, ...), planned from now."""
    fields = {name: value for name, value in fields.items() if value is not None}
    fields.setdefault("headers", {})
    badge = fields.pop("badge", False)
    _check_schedule_scalars(fields)
    _check_request_fields(fields, config)
    if fields.get("target_id") is not None:
        _owned_target(session, user_id, fields["target_id"])
    elif not fields.get("url"):
        raise InvalidInput("request.url", "a schedule needs request.url or target_id")
    else:
        fields.setdefault("method", DEFAULT_METHOD)
    fields.setdefault("timeout_seconds", config.default_timeout_seconds)
    if "kind" not in fields:
        raise InvalidInput("kind", "a kind is required")

    # Planned, stamped and flagged before the one flush: a single INSERT, no UPDATE after it.
    schedule = Schedule(user_id=user_id, **fields)
    _check_kind_fields(schedule, fields)
    schedule.anchor_at = schedule.starts_at or now
    schedule.next_run_at = _plan(schedule, now)
    count = session.exec(_COUNT_SCHEDULES, params={"user_id": user_id}).one()
    if count >= config.max_schedules_per_user:
        raise Conflict(
            f"schedule quota reached: at most {config.max_schedules_per_user} schedules "
            "per user (MAX_SCHEDULES_PER_USER); delete some first",
            code="quota_exceeded",
        )
    schedule.created_at = schedule.updated_at = now
    _set_badge(schedule, badge)
    if paused:
        schedule.status = ScheduleStatus.paused
        schedule.next_run_at = None
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(
    session: Session,
    *,
    user_id: int,
    schedule_id: int,
    changes: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
) -> Schedule:
    """Apply a partial edit (storage field names); replan when the timing changed."""
    schedule = get_schedule(session, user_id=user_id, schedule_id=schedule_id, for_update=True)
    changes = dict(changes)
    paused = changes.pop("paused", None)
    badge = changes.pop("badge", None)
    _check_schedule_scalars(changes)
    if "headers" in changes:
        changes["headers"] = keep_masked_secrets(changes["headers"] or {}, schedule.headers)
    _check_request_fields(changes, config)

    target_id = changes.get("target_id", schedule.target_id)
    if "target_id" in changes and target_id is not None:
        _owned_target(session, user_id, target_id)
    url = changes.get("url", schedule.url)
    if target_id is None and not url:
        raise InvalidInput("request.url", "a schedule needs request.url or target_id")
    if target_id is None and changes.get("method", schedule.method) is None:
        changes["method"] = DEFAULT_METHOD

    for name, value in changes.items():
        setattr(schedule, name, value)
    timing_changed = any(name in changes for name in TIMING_FIELDS)
    if timing_changed:
        _check_kind_fields(schedule, changes)
        if "starts_at" in changes:
            schedule.anchor_at = schedule.starts_at or now
        first = _plan(schedule, now)
        if schedule.status != ScheduleStatus.paused:
            schedule.status = ScheduleStatus.active
            schedule.next_run_at = first
    if paused is True:
        _pause(schedule)
    elif paused is False:
        _resume(schedule, now)
    if badge is not None:
        _set_badge(schedule, badge)
    schedule.updated_at = now
    session.add(schedule)
    session.flush()
    return schedule


def _set_badge(schedule: Schedule, enabled: bool) -> None:
    """Opt in or out of the public badge; opting in again issues a new URL."""
    if not enabled:
        schedule.badge_token = None
    elif schedule.badge_token is None:
        schedule.badge_token = new_badge_token()


def _pause(schedule: Schedule) -> None:
    if schedule.status == ScheduleStatus.completed:
        raise Conflict("a completed schedule cannot be paused", field="status")
    schedule.status = ScheduleStatus.paused
    schedule.next_run_at = None


def _resume(schedule: Schedule, now: datetime) -> None:
    if schedule.status == ScheduleStatus.completed:
        raise Conflict("a completed schedule cannot be resumed; edit its timing", field="status")
    if schedule.status == ScheduleStatus.active:
        return
    try:
        validate(spec_for(schedule))
        first = first_run_at(schedule, now)
    except ScheduleSpecError as error:
        raise InvalidInput(api_field(error.field), f"cannot resume: {error.reason}") from None
    schedule.paused_reason = None
    schedule.consecutive_failures = 0  # a fresh count towards auto-pause
    schedule.next_run_at = first
    schedule.status = ScheduleStatus.active if first else ScheduleStatus.completed


def pause_schedule(session: Session, *, user_id: int, schedule_id: int, now: datetime) -> Schedule:
    schedule = get_schedule(session, user_id=user_id, schedule_id=schedule_id, for_update=True)
    if schedule.status != ScheduleStatus.paused:
        _pause(schedule)
        schedule.updated_at = now
        session.add(schedule)
        session.flush()
    return schedule


def resume_schedule(session: Session, *, user_id: int, schedule_id: int, now: datetime) -> Schedule:
    """Active again, its next firing computed from now (missed firings are not made up)."""
    schedule = get_schedule(session, user_id=user_id, schedule_id=schedule_id, for_update=True)
    if schedule.status != ScheduleStatus.active:
        _resume(schedule, now)
        schedule.updated_at = now
        session.add(schedule)
        session.flush()
    return schedule


def delete_schedule(session: Session, *, user_id: int, schedule_id: int) -> None:
    """Delete the schedule; its runs and attempts go with it (ON DELETE CASCADE)."""
    get_schedule(session, user_id=user_id, schedule_id=schedule_id, for_update=True)
    session.exec(delete(Schedule).where(Schedule.id == schedule_id, Schedule.user_id == user_id))  # type: ignore[call-overload]
    session.flush()


def list_schedules(
    session: Session,
    *,
    user_id: int,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Schedule]:
    """Oldest first, keyset on id."""
    size = _page_size(limit)
    after = decode_cursor("s", cursor)
    query = select(Schedule).where(Schedule.user_id == user_id)
    if status is not None:
        if status not in tuple(ScheduleStatus):
            raise InvalidInput("status", "must be one of active, paused, completed")
        query = query.where(Schedule.status == status)
    if after is not None:
        query = query.where(Schedule.id > after)
    rows = session.exec(query.order_by(Schedule.id).limit(size + 1)).all()
    return _page(rows, size, "s")


def last_runs(session: Session, schedule_ids: Sequence[int]) -> dict[int, Run]:
    """The newest run of each schedule (one index probe per schedule on (schedule_id, id))."""
    if not schedule_ids:
        return {}
    newest = (
        select(Run.id)
        .where(Run.schedule_id == Schedule.id)
        .order_by(Run.id.desc())
        .limit(1)
        .correlate(Schedule)
        .scalar_subquery()
    )
    ids = [
        run_id
        for run_id in session.exec(
            select(newest).select_from(Schedule).where(Schedule.id.in_(schedule_ids))
        ).all()
        if run_id is not None
    ]
    if not ids:
        return {}
    return {run.schedule_id: run for run in session.exec(select(Run).where(Run.id.in_(ids)))}


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class Preview:
    description: str
    next: list[datetime]


def preview_schedule(timing: dict[str, Any], *, now: datetime, count: int = PREVIEW_COUNT):
    """Words for a timing and its next `count` firings from max(starts_at, now)."""
    fields = {name: timing.get(name) for name in TIMING_FIELDS}
    if fields["timezone"] is None:
        fields["timezone"] = "UTC"
    _check_schedule_scalars({k: v for k, v in fields.items() if v is not None})
    if not fields["kind"]:
        raise InvalidInput("kind", "a kind is required")
    for name in ("run_at", "starts_at", "ends_at"):
        if fields[name] is not None:
            fields[name] = fields[name].astimezone(UTC)
    spec = ScheduleSpec(
        kind=fields["kind"],
        timezone=fields["timezone"],
        cron=fields["cron"],
        every=fields["every"],
        unit=fields["unit"],
        run_at=fields["run_at"],
        starts_at=fields["starts_at"],
        ends_at=fields["ends_at"],
        anchor=fields["starts_at"] or now,
    )
    try:
        validate(spec)
        fires = next_fires(spec, now - timedelta(microseconds=1), count)
        return Preview(describe(spec), fires)
    except ScheduleSpecError as error:
        raise _spec_error(error) from None
    except (ValueError, OverflowError) as error:
        raise InvalidInput(None, f"cannot be scheduled: {error}") from None


# --------------------------------------------------------------------------- stats


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


@dataclass
class ScheduleStats:
    schedule_id: int
    since: datetime
    until: datetime
    runs: dict[str, int]
    success_rate: float | None
    latency_ms: dict[str, float | None]
    fire_lag_ms: dict[str, float | None]
    sample_size: int


def schedule_stats(
    session: Session, *, user_id: int, schedule_id: int, window: timedelta, now: datetime
) -> ScheduleStats:
    """Runs fired in the window (by scheduled_for) by outcome; latency and fire lag
    percentiles over the window's newest STATS_SAMPLE_LIMIT runs. Fire lag is the
    first attempt's start minus the instant the run was scheduled for."""
    get_schedule(session, user_id=user_id, schedule_id=schedule_id)
    since = now - window
    in_window = and_(Run.schedule_id == schedule_id, Run.scheduled_for >= since)
    counts = {status.value: 0 for status in RunStatus}
    for status, count in session.exec(
        select(Run.status, func.count()).where(in_window).group_by(Run.status)
    ).all():
        counts[status] = count
    counts["total"] = sum(counts.values())
    finished = counts["succeeded"] + counts["failed"]
    latencies = sorted(
        value
        for value in session.exec(
            select(Run.latency_ms)
            .where(in_window, Run.latency_ms.is_not(None))
            .order_by(Run.scheduled_for.desc())
            .limit(STATS_SAMPLE_LIMIT)
        ).all()
    )
    lags = sorted(
        (started - scheduled).total_seconds() * 1000
        for scheduled, started in session.exec(
            select(Run.scheduled_for, Attempt.started_at)
            .join(Attempt, and_(Attempt.run_id == Run.id, Attempt.number == 1))
            .where(in_window)
            .order_by(Run.scheduled_for.desc())
            .limit(STATS_SAMPLE_LIMIT)
        ).all()
    )
    return ScheduleStats(
        schedule_id=schedule_id,
        since=since,
        until=now,
        runs=counts,
        success_rate=counts["succeeded"] / finished if finished else None,
        latency_ms={f"p{p}": _round(percentile(latencies, p / 100)) for p in (50, 95, 99)},
        fire_lag_ms={f"p{p}": _round(percentile(lags, p / 100)) for p in (50, 99)},
        sample_size=max(len(latencies), len(lags)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --------------------------------------------------------------------------- targets


@dataclass
class TargetUsage:
    count: int = 0
    schedules: list[tuple[int, str]] = field(default_factory=list)


def get_target(session: Session, *, user_id: int, target_id: int) -> Target:
    if not _valid_id(target_id):
        raise NotFound("target")
    target = session.exec(
        select(Target).where(Target.id == target_id, Target.user_id == user_id)
    ).first()
    if target is None:
        raise NotFound("target")
    return target


def _check_target_fields(fields: dict[str, Any], config: ServiceConfig) -> None:
    allowed = {"name", "url", "method", "headers", "body"}
    for name in fields:
        if name not in allowed:
            raise InvalidInput(name, "unknown field")
    for name in ("name", "url", "method", "headers"):
        if name in fields and fields[name] is None:
            raise InvalidInput(name, "must not be null")
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name", "a name is required")
        fields["name"] = check_text(name.strip(), "name")
        if len(fields["name"]) > 200:
            raise InvalidInput("name", "must be at most 200 characters")
    _check_request_fields(fields, config, flat=True)


def _name_taken(session: Session, user_id: int, name: str, except_id: int | None = None) -> bool:
    query = select(Target.id).where(Target.user_id == user_id, Target.name == name)
    if except_id is not None:
        query = query.where(Target.id != except_id)
    return session.exec(query).first() is not None


def _flush_target(session: Session, target: Target) -> None:
    try:
        with session.begin_nested():
            session.add(target)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"a target named {target.name!r} already exists", code="conflict", field="name"
        ) from None


def create_target(
    session: Session, *, user_id: int, fields: dict[str, Any], now: datetime, config: ServiceConfig
) -> Target:
    fields = dict(fields)
    fields.setdefault("method", DEFAULT_METHOD)
    fields.setdefault("headers", {})
    if fields.get("headers") is None:
        fields["headers"] = {}
    if fields.get("method") is None:
        fields["method"] = DEFAULT_METHOD
    if not fields.get("url"):
        raise InvalidInput("url", "a URL is required")
    _check_target_fields(fields, config)
    if "name" not in fields:
        raise InvalidInput("name", "a name is required")
    if _name_taken(session, user_id, fields["name"]):
        raise Conflict(f"a target named {fields['name']!r} already exists", field="name")
    target = Target(user_id=user_id, created_at=now, updated_at=now, **fields)
    _flush_target(session, target)
    return target


def update_target(
    session: Session,
    *,
    user_id: int,
    target_id: int,
    changes: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
) -> Target:
    """A partial edit; schedules using the target send the new request from their next run."""
    target = get_target(session, user_id=user_id, target_id=target_id)
    changes = dict(changes)
    if "headers" in changes and changes["headers"] is not None:
        changes["headers"] = keep_masked_secrets(changes["headers"], target.headers)
    _check_target_fields(changes, config)
    if "name" in changes and _name_taken(session, user_id, changes["name"], target.id):
        raise Conflict(f"a target named {changes['name']!r} already exists", field="name")
    for name, value in changes.items():
        setattr(target, name, value)
    target.updated_at = now
    _flush_target(session, target)
    return target


def target_usage(session: Session, target_ids: Sequence[int]) -> dict[int, TargetUsage]:
    """For each target: how many schedules use it and the first USED_BY_SHOWN of them."""
    usage = {target_id: TargetUsage() for target_id in target_ids}
    if not target_ids:
        return usage
    for target_id, count in session.exec(
        select(Schedule.target_id, func.count())
        .where(Schedule.target_id.in_(target_ids))
        .group_by(Schedule.target_id)
    ).all():
        usage[target_id].count = count
    rank = (
        func.row_number().over(partition_by=Schedule.target_id, order_by=Schedule.id).label("rank")
    )
    ranked = (
        select(Schedule.id, Schedule.name, Schedule.target_id, rank)
        .where(Schedule.target_id.in_(target_ids))
        .subquery()
    )
    for schedule_id, name, target_id in session.exec(
        select(ranked.c.id, ranked.c.name, ranked.c.target_id)
        .where(ranked.c.rank <= USED_BY_SHOWN)
        .order_by(ranked.c.id)
    ).all():
        usage[target_id].schedules.append((schedule_id, name))
    return usage


def list_targets(
    session: Session, *, user_id: int, limit: int | None = None, cursor: str | None = None
) -> Page[Target]:
    size = _page_size(limit)
    after = decode_cursor("t", cursor)
    query = select(Target).where(Target.user_id == user_id)
    if after is not None:
        query = query.where(Target.id > after)
    return _page(session.exec(query.order_by(Target.id).limit(size + 1)).all(), size, "t")


def delete_target(session: Session, *, user_id: int, target_id: int) -> None:
    """Refused (409, naming them) while schedules use the target."""
    target = get_target(session, user_id=user_id, target_id=target_id)
    usage = target_usage(session, [target.id])[target.id]
    if usage.count:
        raise Conflict(_in_use_message(usage), code="target_in_use")
    try:
        with session.begin_nested():
            session.exec(delete(Target).where(Target.id == target.id))  # type: ignore[call-overload]
    except IntegrityError:
        # A schedule started using it meanwhile.
        usage = target_usage(session, [target.id])[target.id]
        raise Conflict(_in_use_message(usage), code="target_in_use") from None


def _in_use_message(usage: TargetUsage) -> str:
    shown = ", ".join(f"{name!r} (id {schedule_id})" for schedule_id, name in usage.schedules)
    more = usage.count - len(usage.schedules)
    suffix = f" and {more} more" if more > 0 else ""
    noun = "schedule" if usage.count == 1 else "schedules"
    return f"target is used by {usage.count} {noun}: {shown}{suffix}"


# --------------------------------------------------------------------------- runs


def get_run(session: Session, *, user_id: int, run_id: int) -> Run:
    if not _valid_id(run_id):
        raise NotFound("run")
    run = session.exec(select(Run).where(Run.id == run_id, Run.user_id == user_id)).first()
    if run is None:
        raise NotFound("run")
    return run


def run_attempts(session: Session, *, run: Run) -> list[Attempt]:
    return list(
        session.exec(select(Attempt).where(Attempt.run_id == run.id).order_by(Attempt.number))
    )


def runs_query(
    *,
    user_id: int | None,
    schedule_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> tuple[Select, dict[str, Any]]:
    """One page of runs, newest first, as (statement, its parameters):
    `user_id = ? ... AND id < ? ORDER BY id DESC LIMIT ?` walks the (user_id, id) index
    backwards and stops after `limit` rows: no OFFSET, however deep the page. With a
    schedule (whose owner the caller checked) `user_id` is None and the query is on
    `schedule_id`, so it can only walk the (schedule_id, id) index."""
    if user_id is None and schedule_id is None:
        raise ValueError("runs_query needs user_id or schedule_id")
    values = {
        "user_id": user_id,
        "schedule_id": schedule_id,
        "status": status,
        "since": since.astimezone(UTC) if since is not None else None,
        "until": until.astimezone(UTC) if until is not None else None,
        "before_id": before_id,
    }
    params = {name: value for name, value in values.items() if value is not None}
    return _runs_statement(frozenset(params)), {**params, "limit": limit}


# The log's hottest query. One statement per combination of filters, built once:
# a new one per request cost more CPU to build and key for the compiled cache
# than running it did.
_RUNS_FILTERS = {
    "user_id": lambda value: Run.user_id == value,
    "schedule_id": lambda value: Run.schedule_id == value,
    "status": lambda value: Run.status == value,
    "since": lambda value: Run.scheduled_for >= value,
    "until": lambda value: Run.scheduled_for <= value,
    "before_id": lambda value: Run.id < value,
}


@lru_cache(maxsize=2 ** len(_RUNS_FILTERS))  # every combination
def _runs_statement(filters: frozenset[str]) -> Select:
    # Plain rows, not ORM objects: a read-only page costs 40% less to load.
    query = select(*Run.__table__.columns)
    for name, condition in _RUNS_FILTERS.items():
        if name in filters:
            query = query.where(condition(bindparam(name)))
    return query.order_by(Run.id.desc()).limit(bindparam("limit", type_=Integer))


def list_runs(
    session: Session,
    *,
    user_id: int,
    schedule_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Row]:
    """Newest first, keyset on id; `since`/`until` bound scheduled_for (inclusive).
    The items are read-only rows with the Run columns as attributes."""
    size = _page_size(limit)
    before = decode_cursor("r", cursor)
    if status is not None and status not in tuple(RunStatus):
        raise InvalidInput("status", f"must be one of {', '.join(RunStatus)}")
    if schedule_id is not None:
        owned = (
            _valid_id(schedule_id)
            and session.exec(
                select(Schedule.id).where(Schedule.id == schedule_id, Schedule.user_id == user_id)
            ).first()
        )
        if not owned:
            return Page([], None)  # another user's schedule lists like one without runs
    query, params = runs_query(
        user_id=None if schedule_id is not None else user_id,
        schedule_id=schedule_id,
        status=status,
        since=since,
        until=until,
        before_id=before,
        limit=size + 1,
    )
    return _page(session.exec(query, params=params).all(), size, "r")


# --------------------------------------------------------------------------- test delivery


def build_test_request(fields: dict[str, Any], *, config: ServiceConfig) -> OutboundRequest:
    """The request a test delivery sends, checked like a schedule's."""
    fields = dict(fields)
    if not fields.get("url"):
        raise InvalidInput("request.url", "a URL is required")
    fields.setdefault("headers", {})
    _check_request_fields(fields, config)
    timeout = fields.get("timeout_seconds") or config.default_timeout_seconds
    if not 1 <= timeout <= 1800:
        raise InvalidInput("timeout_seconds", "must be between 1 and 1800")
    # Template variables get sample values (run_id 1, attempt 1, ...).
    sample = templating.SAMPLE_VALUES
    return OutboundRequest(
        url=templating.render(fields["url"], sample, in_url=True),
        method=fields.get("method") or DEFAULT_METHOD,
        headers={k: templating.render(v, sample) for k, v in (fields.get("headers") or {}).items()},
        body=None if fields.get("body") is None else templating.render(fields["body"], sample),
        timeout_seconds=float(timeout),
        follow_redirects=bool(fields.get("follow_redirects")),
    )


def prepare_test_delivery(
    session: Session, fields: dict[str, Any], *, user_id: int, config: ServiceConfig, now: datetime
) -> tuple[OutboundRequest, list[str]]:
    """The checked test request and the owner's live signing secrets. Ends the read
    transaction, so that no connection is held through the (slow) request."""
    request = build_test_request(fields, config=config)
    secrets = live_secrets(session, user_id, now)
    session.commit()
    return request, secrets


async def send_test_delivery(
    request: OutboundRequest, *, secrets: list[str], config: ServiceConfig
) -> AttemptOutcome:
    """One real attempt now, through the engine's guard and client, signed like a run
    (webhook-id `test_<random>`). Nothing is recorded."""
    message_id = f"test_{_random.token_hex(8)}"
    body = request.body.encode() if request.body is not None else b""
    extra = delivery_headers(secrets, message_id, body)
    async with make_client(max_connections=4) as client:
        return await send_attempt(
            client,
            request,
            policy=config.policy,
            extra_headers=extra,
            excerpt_bytes=config.excerpt_bytes,
        )
