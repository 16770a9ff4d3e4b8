"""Importing a document: targets and schedules created or updated by name,
as a dry run or for real.

Never a long write transaction (on SQLite one writer at a time holds the lock,
and every other user's edit waits for it): the document is checked against a
snapshot read without the write lock, item by item with the services' own
rules, and only then written, in one short transaction of a few bulk
statements. That transaction first checks the snapshot still holds (the same
targets and the same matched schedules, none edited since): if not, a 409
`changed_meanwhile`, and nothing is written. A dry run stops after the check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from hookboard import services as service
from hookboard.core.db import READ_ONLY
from hookboard.core.redaction import MASK, is_secret_header
from hookboard.models import Schedule, ScheduleStatus, Target
from hookboard.services import Conflict, InvalidInput, ServiceConfig, audit
from hookboard.services.masking import unmask_url
from hookboard.services.schedules import check_quota, edit_schedule, new_schedule
from hookboard.services.targets import edit_target, new_target
from hookboard.services.transfer.document import (
    ScheduleDocument,
    ScheduleItem,
    aware,
    parse_document,
)
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access
from hookboard.services.workspaces.permissions import Action as Right

Action = Literal["create", "update", "unchanged"]


@dataclass(frozen=True)
class ImportedItem:
    type: Literal["target", "schedule"]
    name: str
    action: Action
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
    access: Access,
    document: Any,
    dry_run: bool,
    now: datetime,
    config: ServiceConfig,
) -> ImportReport:
    """Check the whole document, then write it in one short transaction of `session`
    (committed), or nothing at all: for a dry run, or on any error.

    Ends whatever transaction `session` had open. Raises InvalidInput (field
    like "schedules.3.request.url") or Conflict."""
    permissions.check(access, Right.write)
    workspace_id = access.workspace_id
    parsed = parse_document(document)
    _refuse_duplicate_names("targets", [item.name for item in parsed.targets])
    _refuse_duplicate_names("schedules", [item.name for item in parsed.schedules])
    session.commit()  # no write lock held while the document is checked
    snapshot = _read_snapshot(session, workspace_id, parsed)
    plan = _Plan(snapshot, workspace_id, now, config)
    plan.targets(parsed.targets)
    plan.schedules(parsed.schedules)
    if not dry_run:
        plan.prepare()
        try:
            _check_unchanged(session, workspace_id, snapshot)
            plan.write(session)
            audit.record(
                session,
                access,
                "schedule.import",
                workspace_id=workspace_id,
                object_type="workspace",
                object_id=workspace_id,
                changes=audit.counts((e.type, e.action) for e in plan.entries),
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        plan.name_created_rows()
    return plan.report(dry_run)


# --- the snapshot: what the document is checked against -------------------------------


@dataclass
class _Snapshot:
    targets: dict[str, Target]  # the user's, by name (detached: edits are never flushed)
    schedules: dict[str, list[Schedule]]  # the user's named in the document
    schedule_count: int
    schedule_names: list[str]  # the document's
    stamp: tuple  # what must still hold when the import writes


def _read_snapshot(session: Session, workspace_id: int, parsed: ScheduleDocument) -> _Snapshot:
    names = [item.name for item in parsed.schedules]
    engine = session.get_bind().execution_options(**{READ_ONLY: True})
    with Session(engine, expire_on_commit=False) as reader:
        targets = reader.exec(select(Target).where(Target.workspace_id == workspace_id)).all()
        schedules = reader.exec(
            select(Schedule).where(Schedule.workspace_id == workspace_id, Schedule.name.in_(names))
        ).all()
        count = reader.exec(select(func.count()).where(Schedule.workspace_id == workspace_id)).one()
        stamp = _stamp(reader, workspace_id, names)
    by_name: dict[str, list[Schedule]] = defaultdict(list)
    for schedule in schedules:
        by_name[schedule.name].append(schedule)
    return _Snapshot({t.name: t for t in targets}, by_name, count, names, stamp)


def _stamp(session: Session, workspace_id: int, schedule_names: list[str]) -> tuple:
    """The user's targets and the named schedules (id, name, last edit), and how many
    schedules the user has: any edit, creation or deletion since changes it."""
    targets = session.exec(
        select(Target.id, Target.name, Target.updated_at).where(Target.workspace_id == workspace_id)
    ).all()
    schedules = session.exec(
        select(Schedule.id, Schedule.name, Schedule.updated_at).where(
            Schedule.workspace_id == workspace_id, Schedule.name.in_(schedule_names)
        )
    ).all()
    count = session.exec(select(func.count()).where(Schedule.workspace_id == workspace_id)).one()
    return frozenset(map(tuple, targets)), frozenset(map(tuple, schedules)), count


def _check_unchanged(session: Session, workspace_id: int, snapshot: _Snapshot) -> None:
    if _stamp(session, workspace_id, snapshot.schedule_names) != snapshot.stamp:
        raise Conflict(
            "your targets or schedules changed while the import was being checked; run it again",
            code="changed_meanwhile",
        )


# --- the plan: every item checked, nothing written ------------------------------------


@dataclass
class _Entry:
    type: Literal["target", "schedule"]
    name: str
    action: Action
    row: SQLModel
    changes: list[str] = field(default_factory=list)


class _Plan:
    def __init__(
        self, snapshot: _Snapshot, workspace_id: int, now: datetime, config: ServiceConfig
    ):
        self.snapshot = snapshot
        self.workspace_id = workspace_id
        self.now = now
        self.config = config
        self.entries: list[_Entry] = []
        # A new target has no id until written: schedules name it by a stand-in (< 0).
        self.target_ids = {name: target.id for name, target in snapshot.targets.items()}
        self.known_target_ids = set(self.target_ids.values())
        self.new_targets: dict[int, Target] = {}
        self.new_schedules: list[Schedule] = []
        self.edited: dict[type, list[tuple[SQLModel, set[str]]]] = defaultdict(list)

    def report(self, dry_run: bool) -> ImportReport:
        return ImportReport(
            dry_run=dry_run,
            items=[
                ImportedItem(
                    entry.type,
                    entry.name,
                    entry.action,
                    None if dry_run and entry.action == "create" else entry.row.id,
                    entry.changes,
                )
                for entry in self.entries
            ],
        )

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
            self.entries.append(_Entry("target", item.name, "create", created))
            return
        changes = {name: value for name, value in fields.items() if getattr(target, name) != value}
        if changes:
            applied = edit_target(target, changes, now=self.now, config=self.config)
            self.edited[Target].append((target, {*applied, "updated_at"}))
        action = "update" if changes else "unchanged"
        self.entries.append(_Entry("target", item.name, action, target, sorted(changes)))

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
        self.entries.append(_Entry("schedule", item.name, "create", created))

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
            before = _columns(schedule)
            edit_schedule(
                schedule, changes, now=self.now, config=self.config, check_target=self._check_target
            )
            after = _columns(schedule)
            self.edited[Schedule].append(
                (schedule, {name for name in after if after[name] != before[name]})
            )
        shown = sorted(service.api_field(name) for name in changes)
        action = "update" if changes else "unchanged"
        self.entries.append(_Entry("schedule", item.name, action, schedule, shown))

    # the one short write

    def prepare(self) -> None:
        """Every value the statements send, built before the write transaction begins."""
        self.values = {
            Target: [_values(row) for row in self.new_targets.values()],
            Schedule: [_values(row) for row in self.new_schedules],
        }
        self.updates = {model: _update_batches(edits) for model, edits in self.edited.items()}

    def write(self, session: Session) -> None:
        """A few bulk statements, whatever the document's size."""
        targets = list(self.new_targets.values())
        created = _insert(session, targets, self.values[Target])
        self.created = [(targets, created)]
        real_ids = dict(zip(self.new_targets, created, strict=True))
        edited = [value for batch in self.updates.get(Schedule, []) for value in batch]
        for value in [*self.values[Schedule], *edited]:
            if value.get("target_id") in real_ids:  # a stand-in for a target just created
                value["target_id"] = real_ids[value["target_id"]]
        created = _insert(session, self.new_schedules, self.values[Schedule])
        self.created.append((self.new_schedules, created))
        for model, batches in self.updates.items():
            for batch in batches:
                session.execute(update(model), batch)

    def name_created_rows(self) -> None:
        """Their ids on the new rows (after the commit: no lock held meanwhile)."""
        for rows, ids in self.created:
            for row, row_id in zip(rows, ids, strict=True):
                row.id = row_id


def _columns(row: SQLModel) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in type(row).__table__.columns}


def _values(row: SQLModel) -> dict[str, Any]:
    return {name: value for name, value in _columns(row).items() if name != "id"}


def _insert(session: Session, rows: list, values: list[dict]) -> list[int]:
    """One executemany INSERT of `values`, the columns of `rows` (new names all);
    their ids, in order."""
    if not rows:
        return []
    table = type(rows[0]).__table__
    # A plain executemany (no RETURNING, which SQLAlchemy would expand row by row),
    # then the ids by name: a fraction of the time spent holding the lock.
    try:
        session.connection().execute(insert(table), values)
    except IntegrityError:
        raise Conflict(
            "a target or schedule of the document was created meanwhile; run the import again",
            code="changed_meanwhile",
        ) from None
    found = session.execute(
        select(table.c.id, table.c.name)
        .where(
            table.c.workspace_id == rows[0].workspace_id,
            table.c.name.in_([row.name for row in rows]),
        )
        .order_by(table.c.id)
    )
    ids = {name: row_id for row_id, name in found}  # the newest of a name: this one
    return [ids[row.name] for row in rows]


def _update_batches(edits: list[tuple[SQLModel, set[str]]]) -> list[list[dict]]:
    """UPDATE by primary key: one executemany per set of changed columns."""
    batches: dict[frozenset[str], list[dict]] = defaultdict(list)
    for row, changed in edits:
        batches[frozenset(changed)].append(
            {"id": row.id, **{name: getattr(row, name) for name in changed}}
        )
    return list(batches.values())


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
