"""Export a user's schedules and targets as one JSON document; import it back.

The document (version 1) holds targets and schedules by name, never by id,
so it moves between accounts and installations:

    {"version": 1, "exported_at": "...",
     "targets":   [{"name": "crm", "url": "https://...", "method": "POST",
                    "headers": {...}, "body": null}],
     "schedules": [{"name": "nightly", "kind": "cron", "cron": "0 2 * * *",
                    "timezone": "Europe/Berlin", "target": "crm",
                    "request": {...}, "retry": {...}, "paused": false,
                    "auto_pause_after": 15, "badge": false, ...}]}

A schedule item has the shape of a POST /schedules body, with `target` (a
target's name) instead of `target_id`. Completed schedules are left out:
they never fire again. `badge` is the opt-in alone, never the badge's token:
the token is a capability URL, so an imported schedule with `badge: true`
gets a fresh one (a schedule that already has a badge keeps its own).

Secrets: an export masks the values of secret-looking headers ("***"), as
every API answer does, unless `include_secrets` is asked for (a backup meant
to be restored must carry them). On import a masked value keeps the value
already stored under that name; a masked value with nothing to keep is
refused, so "***" is never sent as a credential.

Import matches targets and schedules by name: a new name is created, a known
one is updated to match the document (only the fields that differ change, so
an unchanged interval keeps its phase), and nothing absent from the document
is touched. Every item goes through the same validation as the API's create
and edit (hookboard.services), all in one transaction: one bad item
and nothing is written. A dry run does all of it and rolls back, reporting
what would change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
from sqlmodel import Session, select

from hookboard import services as service
from hookboard.core.redaction import MASK, is_secret_header, redact_headers
from hookboard.models import Schedule, ScheduleStatus, Target
from hookboard.services import Conflict, InvalidInput, ServiceConfig

FORMAT_VERSION = 1
MAX_ITEMS = 100_000
DEFAULT_AUTO_PAUSE_AFTER = Schedule.model_fields["auto_pause_after"].default  # as POST /schedules

# --------------------------------------------------------------------------- the document


def _instant(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None
    if not 1900 <= value.year <= 9000:
        raise ValueError("date-time must be between the years 1900 and 9000")
    return value


def _text_or_datetime(value: Any) -> Any:
    # Lax pydantic would read a number as Unix time; the document holds ISO 8601 text.
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2048)]
Instant = Annotated[AwareDatetime, BeforeValidator(_text_or_datetime), AfterValidator(_instant)]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RequestItem(_Strict):
    url: Text | None = None
    method: Method | None = None
    headers: dict[str, str] | None = None
    body: str | None = None


class RetryItem(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    backoff: Literal["fixed", "linear", "exponential"] = "exponential"
    base_delay_seconds: Annotated[float, Field(ge=0, le=86_400)] = 10.0
    max_delay_seconds: Annotated[float, Field(ge=0, le=604_800)] = 3600.0
    jitter: StrictBool = True


class TargetItem(_Strict):
    name: Name
    url: Text
    method: Method = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


class ScheduleItem(_Strict):
    name: Name
    kind: Literal["cron", "interval", "once", "window"]
    cron: Annotated[str, StringConstraints(max_length=200)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    every: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    unit: Literal["seconds", "minutes", "hours", "days", "weeks", "months", "years"] | None = None
    run_at: Instant | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    target: Name | None = Field(None, description="A target's name (in the document or account).")
    request: RequestItem = Field(default_factory=RequestItem)
    follow_redirects: StrictBool = False
    timeout_seconds: Annotated[float, Field(ge=1, le=1800)] | None = None
    retry: RetryItem = Field(default_factory=RetryItem)
    misfire: Literal["coalesce", "skip"] = "coalesce"
    overlap: Literal["skip", "allow"] = "skip"
    paused: StrictBool = False
    auto_pause_after: Annotated[int, Field(ge=0, le=service.MAX_AUTO_PAUSE_AFTER)] = Field(
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


# --------------------------------------------------------------------------- export


def export_document(
    session: Session, *, user_id: int, include_secrets: bool = False, now: datetime | None = None
) -> ScheduleDocument:
    """The user's targets and (not completed) schedules, oldest first."""
    show = (lambda headers: dict(headers)) if include_secrets else redact_headers
    targets = session.exec(select(Target).where(Target.user_id == user_id).order_by(Target.id))
    names: dict[int, str] = {}
    target_items = []
    for target in targets:
        names[target.id] = target.name
        target_items.append(_target_item(target, show))
    schedules = session.exec(
        select(Schedule)
        .where(Schedule.user_id == user_id, Schedule.status != ScheduleStatus.completed)
        .order_by(Schedule.id)
    )
    return ScheduleDocument(
        exported_at=now or datetime.now(UTC),
        targets=target_items,
        schedules=[_schedule_item(s, names.get(s.target_id), show) for s in schedules],
    )


def _target_item(target: Target, show: Callable[[dict], dict]) -> TargetItem:
    return TargetItem(
        name=target.name,
        url=target.url,
        method=target.method,
        headers=show(target.headers or {}),
        body=target.body,
    )


def _schedule_item(
    schedule: Schedule, target_name: str | None, show: Callable[[dict], dict]
) -> ScheduleItem:
    return ScheduleItem(
        name=schedule.name,
        kind=schedule.kind,
        cron=schedule.cron,
        timezone=schedule.timezone,
        every=schedule.every,
        unit=schedule.unit,
        run_at=_aware(schedule.run_at),
        starts_at=_aware(schedule.starts_at),
        ends_at=_aware(schedule.ends_at),
        target=target_name,
        request=RequestItem(
            url=schedule.url,
            method=schedule.method,
            headers=show(schedule.headers or {}),
            body=schedule.body,
        ),
        follow_redirects=schedule.follow_redirects,
        timeout_seconds=schedule.timeout_seconds,
        retry=RetryItem(
            max_attempts=schedule.max_attempts,
            backoff=schedule.backoff,
            base_delay_seconds=schedule.base_delay_seconds,
            max_delay_seconds=schedule.max_delay_seconds,
            jitter=schedule.jitter,
        ),
        misfire=schedule.misfire,
        overlap=schedule.overlap,
        paused=schedule.status == ScheduleStatus.paused,
        auto_pause_after=schedule.auto_pause_after,
        badge=schedule.badge_token is not None,
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite hands back naive UTC
        return value.replace(tzinfo=UTC)
    return value


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportedItem:
    type: Literal["target", "schedule"]
    name: str
    action: Literal["create", "update", "unchanged"]
    id: int | None  # None for a create in a dry run
    changes: list[str] = field(default_factory=list)  # API field names


@dataclass
class ImportReport:
    dry_run: bool
    items: list[ImportedItem] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)


def run_import(
    session: Session,
    *,
    user_id: int,
    document: Any,
    dry_run: bool,
    now: datetime,
    config: ServiceConfig,
) -> ImportReport:
    """Import in one transaction: committed, or rolled back for a dry run or on any error.

    Raises InvalidInput (field like "schedules.3.request.url") or Conflict."""
    try:
        report = import_document(
            session, user_id=user_id, document=document, dry_run=dry_run, now=now, config=config
        )
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def import_document(
    session: Session,
    *,
    user_id: int,
    document: Any,
    dry_run: bool,
    now: datetime,
    config: ServiceConfig,
) -> ImportReport:
    """Apply the document in the session's transaction (flushed, not committed)."""
    parsed = parse_document(document)
    _refuse_duplicate_names("targets", [item.name for item in parsed.targets])
    _refuse_duplicate_names("schedules", [item.name for item in parsed.schedules])
    report = ImportReport(dry_run=dry_run)
    target_ids = _import_targets(session, user_id, parsed.targets, now, config, report)
    _import_schedules(session, user_id, parsed.schedules, target_ids, now, config, report)
    if dry_run:
        report.items = [
            item if item.action != "create" else ImportedItem(item.type, item.name, "create", None)
            for item in report.items
        ]
    return report


def _refuse_duplicate_names(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise InvalidInput(f"{kind}.{index}.name", f"{name!r} appears twice in the document")
        seen.add(name)


class _At:
    """Prefix service errors with the item's place in the document."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, _traceback) -> bool:
        if isinstance(error, InvalidInput):
            raise InvalidInput(self._path(error.field), error.message) from None
        if isinstance(error, Conflict):
            raise Conflict(error.message, code=error.code, field=self._path(error.field)) from None
        return False

    def _path(self, name: str | None) -> str:
        return f"{self.prefix}.{name}" if name else self.prefix


def _unmask(headers: dict[str, str], stored: dict[str, str] | None, field_path: str):
    """Masked values take the stored ones; one with nothing stored is an error."""
    headers = service.keep_masked_secrets(headers, stored)
    for name, value in headers.items():
        if value == MASK and is_secret_header(name):
            raise InvalidInput(
                field_path,
                f"header {name!r} is masked ({MASK}) and has no stored value to keep; "
                "export with include_secrets to move secrets",
            )
    return headers


def _import_targets(session, user_id, items, now, config, report) -> dict[str, int]:
    existing = {
        target.name: target
        for target in session.exec(select(Target).where(Target.user_id == user_id))
    }
    for index, item in enumerate(items):
        with _At(f"targets.{index}"):
            target = existing.get(item.name)
            fields = item.model_dump()
            fields["headers"] = _unmask(item.headers, target and target.headers, "headers")
            if target is None:
                created = service.create_target(
                    session, user_id=user_id, fields=fields, now=now, config=config
                )
                existing[created.name] = created
                report.items.append(ImportedItem("target", item.name, "create", created.id))
                continue
            changes = {
                name: value for name, value in fields.items() if getattr(target, name) != value
            }
            if changes:
                service.update_target(
                    session,
                    user_id=user_id,
                    target_id=target.id,
                    changes=changes,
                    now=now,
                    config=config,
                )
            action = "update" if changes else "unchanged"
            report.items.append(
                ImportedItem("target", item.name, action, target.id, sorted(changes))
            )
    return {name: target.id for name, target in existing.items()}


def _storage_fields(item: ScheduleItem, target_id: int | None, config: ServiceConfig) -> dict:
    """Column -> value as create_schedule would store it (defaults filled in)."""
    request = item.request
    method = request.method
    if method is None and target_id is None and request.url:
        method = service.DEFAULT_METHOD
    return {
        "name": item.name,
        "kind": item.kind,
        "cron": item.cron,
        "timezone": item.timezone,
        "every": item.every,
        "unit": item.unit,
        "run_at": item.run_at,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "target_id": target_id,
        "url": request.url.strip() if request.url else request.url,
        "method": method,
        "headers": request.headers or {},
        "body": request.body,
        "follow_redirects": item.follow_redirects,
        "timeout_seconds": item.timeout_seconds or config.default_timeout_seconds,
        **item.retry.model_dump(),
        "misfire": item.misfire,
        "overlap": item.overlap,
        "auto_pause_after": item.auto_pause_after,
    }


def _schedules_by_name(session: Session, user_id: int, names: list[str]) -> dict[str, list]:
    found: dict[str, list[Schedule]] = {}
    for schedule in session.exec(
        select(Schedule).where(Schedule.user_id == user_id, Schedule.name.in_(names))
    ):
        found.setdefault(schedule.name, []).append(schedule)
    return found


def _import_schedules(session, user_id, items, target_ids, now, config, report) -> None:
    existing = _schedules_by_name(session, user_id, [item.name for item in items])
    for index, item in enumerate(items):
        with _At(f"schedules.{index}"):
            matches = existing.get(item.name, [])
            if len(matches) > 1:
                raise Conflict(
                    f"{len(matches)} of your schedules are named {item.name!r}; "
                    "rename them so that the import knows which one to update",
                    code="ambiguous_name",
                    field="name",
                )
            target_id = _target_id(item, target_ids)
            fields = _storage_fields(item, target_id, config)
            if not matches:
                fields["headers"] = _unmask(fields["headers"], None, "request.headers")
                created = service.create_schedule(
                    session,
                    user_id=user_id,
                    fields={**fields, "badge": item.badge},
                    now=now,
                    config=config,
                    paused=item.paused,
                )
                report.items.append(ImportedItem("schedule", item.name, "create", created.id))
            else:
                report.items.append(
                    _update_schedule(session, user_id, matches[0], item, fields, now, config)
                )


def _target_id(item: ScheduleItem, target_ids: dict[str, int]) -> int | None:
    if item.target is None:
        return None
    if item.target not in target_ids:
        raise InvalidInput("target", f"no target named {item.target!r} in the document or account")
    return target_ids[item.target]


def _update_schedule(session, user_id, schedule, item, fields, now, config) -> ImportedItem:
    fields["headers"] = _unmask(fields["headers"], schedule.headers, "request.headers")
    changes = {
        name: value
        for name, value in fields.items()
        if _comparable(getattr(schedule, name)) != _comparable(value)
    }
    was_paused = schedule.status == ScheduleStatus.paused
    completed = schedule.status == ScheduleStatus.completed
    timing_changed = any(name in changes for name in service.TIMING_FIELDS)
    # A completed schedule comes back to life only through new timing.
    if item.paused != was_paused and (not completed or timing_changed):
        changes["paused"] = item.paused
    if item.badge != (schedule.badge_token is not None):  # an unchanged badge keeps its URL
        changes["badge"] = item.badge
    if changes:
        service.update_schedule(
            session,
            user_id=user_id,
            schedule_id=schedule.id,
            changes=changes,
            now=now,
            config=config,
        )
    shown = sorted(service.api_field(name) for name in changes)
    action = "update" if changes else "unchanged"
    return ImportedItem("schedule", item.name, action, schedule.id, shown)


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _aware(value).astimezone(UTC)
    return value
