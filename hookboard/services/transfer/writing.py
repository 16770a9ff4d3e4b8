"""An import's one short write: the plan's new and edited rows as a few bulk
statements, whatever the document's size (on SQLite every other writer waits
while they run)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from hookboard.models import Schedule, Target
from hookboard.services import Conflict
from hookboard.services.transfer.plan import Plan, columns


class BulkWrite:
    """Made before the write transaction begins: it builds every value the statements send."""

    def __init__(self, plan: Plan):
        self.new_targets = plan.new_targets
        self.new_schedules = plan.new_schedules
        self.values = {
            Target: [_values(row) for row in self.new_targets.values()],
            Schedule: [_values(row) for row in self.new_schedules],
        }
        self.updates = {model: _update_batches(edits) for model, edits in plan.edited.items()}

    def run(self, session: Session) -> None:
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


def _values(row: SQLModel) -> dict[str, Any]:
    return {name: value for name, value in columns(row).items() if name != "id"}


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
