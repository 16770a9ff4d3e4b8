"""An import's plan: every item of the document checked against the snapshot with
the services' own rules (those of the API's create and edit), and the rows to
create or update built in memory. Nothing is written here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import SQLModel

from hookboard import services as service
from hookboard.core.redaction import MASK, is_secret_header
from hookboard.models import Schedule, ScheduleStatus, Target
from hookboard.services import Conflict, InvalidInput, ServiceConfig
from hookboard.services.masking import unmask_url
from hookboard.services.schedules import check_quota, edit_schedule, new_schedule
from hookboard.services.targets import edit_target, new_target
from hookboard.services.transfer.document import ScheduleItem, aware
from hookboard.services.transfer.snapshot import Snapshot

Action = Literal["create", "update", "unchanged"]


@dataclass
class Entry:
    type: Literal["target", "schedule"]
    name: str
    action: Action
    row: SQLModel
    changes: list[str] = field(default_factory=list)


class Plan:
    """targets(), then schedules(): each item checked, its row built or edited."""

    def __init__(self, snapshot: Snapshot, workspace_id: int, now: datetime, config: ServiceConfig):
        self.snapshot = snapshot
        self.workspace_id = workspace_id
        self.now = now
        self.config = config
        self.entries: list[Entry] = []
        # A new target has no id until written: schedules name it by a stand-in (< 0).
        self.target_ids = {name: target.id for name, target in snapshot.targets.items()}
        self.known_target_ids = set(self.target_ids.values())
        self.new_targets: dict[int, Target] = {}
        self.new_schedules: list[Schedule] = []
        self.edited: dict[type, list[tuple[SQLModel, set[str]]]] = defaultdict(list)

    def _check_target(self, target_id: Any) -> None:
        if target_id not in self.known_target_ids:
            raise InvalidInput("target_id", f"target {target_id} not found")

    # targets

    def targets(self, items) -> None:
        for index, item in enumerate(items):
            with _At(f"targets.{index}"):
                self._target(item)

    def _target(self, item) -> None:
        target = self.snapshot.targets.get(item.name)
        fields = item.model_dump()
        fields["headers"] = _unmask(item.headers, target and target.headers, "headers")
        fields["url"] = unmask_url(fields["url"], target and target.url, "url")
        if target is None:
            created = new_target(
                workspace_id=self.workspace_id, fields=fields, now=self.now, config=self.config
            )
            stand_in = -1 - len(self.new_targets)
            self.new_targets[stand_in] = created
            self.target_ids[item.name] = stand_in
            self.known_target_ids.add(stand_in)
            self.entries.append(Entry("target", item.name, "create", created))
            return
        changes = {name: value for name, value in fields.items() if getattr(target, name) != value}
        if changes:
            applied = edit_target(target, changes, now=self.now, config=self.config)
            self.edited[Target].append((target, {*applied, "updated_at"}))
        action = "update" if changes else "unchanged"
        self.entries.append(Entry("target", item.name, action, target, sorted(changes)))

    # schedules

    def schedules(self, items) -> None:
        for index, item in enumerate(items):
            with _At(f"schedules.{index}"):
                self._schedule(item)

    def _schedule(self, item: ScheduleItem) -> None:
        matches = self.snapshot.schedules.get(item.name, [])
        if len(matches) > 1:
            raise Conflict(
                f"{len(matches)} of your schedules are named {item.name!r}; "
                "rename them so that the import knows which one to update",
                code="ambiguous_name",
                field="name",
            )
        fields = _storage_fields(item, self._target_id(item), self.config)
        if matches:
            self._update_schedule(matches[0], item, fields)
            return
        fields["headers"] = _unmask(fields["headers"], None, "request.headers")
        fields["url"] = unmask_url(fields["url"], None, "request.url")
        created = new_schedule(
            workspace_id=self.workspace_id,
            fields={**fields, "badge": item.badge},
            now=self.now,
            config=self.config,
            check_target=self._check_target,
            paused=item.paused,
        )
        check_quota(self.snapshot.schedule_count + len(self.new_schedules), self.config)
        self.new_schedules.append(created)
        self.entries.append(Entry("schedule", item.name, "create", created))

    def _target_id(self, item: ScheduleItem) -> int | None:
        if item.target is None:
            return None
        if item.target not in self.target_ids:
            raise InvalidInput(
                "target", f"no target named {item.target!r} in the document or account"
            )
        return self.target_ids[item.target]

    def _update_schedule(self, schedule: Schedule, item: ScheduleItem, fields: dict) -> None:
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
            before = columns(schedule)
            edit_schedule(
                schedule, changes, now=self.now, config=self.config, check_target=self._check_target
            )
            after = columns(schedule)
            self.edited[Schedule].append(
                (schedule, {name for name in after if after[name] != before[name]})
            )
        shown = sorted(service.api_field(name) for name in changes)
        action = "update" if changes else "unchanged"
        self.entries.append(Entry("schedule", item.name, action, schedule, shown))


def columns(row: SQLModel) -> dict[str, Any]:
    """Column -> value of a row, as its table stores it."""
    return {column.key: getattr(row, column.key) for column in type(row).__table__.columns}


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


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return aware(value).astimezone(UTC)
    return value
