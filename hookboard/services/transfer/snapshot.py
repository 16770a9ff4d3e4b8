"""What an import's document is checked against: the workspace's targets and the
schedules the document names, read without the write lock; and whether they still
hold when the import writes (any edit, creation or deletion since is a 409)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from hookboard.core.db import READ_ONLY
from hookboard.models import Schedule, Target
from hookboard.services import Conflict
from hookboard.services.transfer.document import ScheduleDocument


@dataclass
class Snapshot:
    targets: dict[str, Target]  # the user's, by name (detached: edits are never flushed)
    schedules: dict[str, list[Schedule]]  # the user's named in the document
    schedule_count: int
    schedule_names: list[str]  # the document's
    stamp: tuple  # what must still hold when the import writes


def read_snapshot(session: Session, workspace_id: int, parsed: ScheduleDocument) -> Snapshot:
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
    return Snapshot({t.name: t for t in targets}, by_name, count, names, stamp)


def check_unchanged(session: Session, workspace_id: int, snapshot: Snapshot) -> None:
    if _stamp(session, workspace_id, snapshot.schedule_names) != snapshot.stamp:
        raise Conflict(
            "your targets or schedules changed while the import was being checked; run it again",
            code="changed_meanwhile",
        )


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
