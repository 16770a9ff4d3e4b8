"""Importing a document: targets and schedules created or updated by name,
as a dry run or for real.

Never a long write transaction (on SQLite one writer at a time holds the lock,
and every other user's edit waits for it): the document is checked against a
snapshot read without the write lock, item by item with the services' own
rules, and only then written, in one short transaction of a few bulk
statements. That transaction first checks the snapshot still holds (the same
targets and the same matched schedules, none edited since): if not, a 409
`changed_meanwhile`, and nothing is written. A dry run stops after the check.

The steps, one module each: snapshot (what the document is checked against),
plan (every item checked, its row built), writing (the few bulk statements).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from hookboard.services import InvalidInput, ServiceConfig, audit
from hookboard.services.transfer.document import parse_document
from hookboard.services.transfer.plan import Action, Entry, Plan
from hookboard.services.transfer.snapshot import check_unchanged, read_snapshot
from hookboard.services.transfer.writing import BulkWrite
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access
from hookboard.services.workspaces.permissions import Action as Right


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
    snapshot = read_snapshot(session, workspace_id, parsed)
    plan = Plan(snapshot, workspace_id, now, config)
    plan.targets(parsed.targets)
    plan.schedules(parsed.schedules)
    if not dry_run:
        writes = BulkWrite(plan)
        try:
            check_unchanged(session, workspace_id, snapshot)
            writes.run(session)
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
        writes.name_created_rows()
    return _report(plan.entries, dry_run)


def _report(entries: list[Entry], dry_run: bool) -> ImportReport:
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
            for entry in entries
        ],
    )


def _refuse_duplicate_names(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise InvalidInput(f"{kind}.{index}.name", f"{name!r} appears twice in the document")
        seen.add(name)
