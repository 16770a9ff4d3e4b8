"""Importing a document: targets and schedules created or updated by name,
as a dry run or for real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, select

from hookboard import services as service
from hookboard.core.redaction import MASK, is_secret_header
from hookboard.models import Schedule, ScheduleStatus, Target
from hookboard.services import Conflict, InvalidInput, ServiceConfig
from hookboard.services.masking import unmask_url
from hookboard.services.transfer.document import ScheduleItem, aware, parse_document


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
            fields["url"] = unmask_url(fields["url"], target and target.url, "url")
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
                fields["url"] = unmask_url(fields["url"], None, "request.url")
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
    fields["url"] = unmask_url(fields["url"], schedule.url, "request.url")
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
        return aware(value).astimezone(UTC)
    return value
