"""Targets: named destinations that schedules share, and which schedules use each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hookboard.models import (
    Schedule,
    Target,
)
from hookboard.services import audit
from hookboard.services.config import ServiceConfig
from hookboard.services.errors import Conflict, InvalidInput, NotFound
from hookboard.services.fields import (
    DEFAULT_METHOD,
    check_name,
    check_request_fields,
)
from hookboard.services.masking import unmask_headers, unmask_url
from hookboard.services.pagination import Page, decode_cursor, make_page, page_size, valid_id
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

# Schedule names shown in a "target in use" conflict and in target listings.
USED_BY_SHOWN = 20


@dataclass
class TargetUsage:
    count: int = 0
    schedules: list[tuple[int, str]] = field(default_factory=list)


def get_target(session: Session, *, workspace_id: int, target_id: int) -> Target:
    if not valid_id(target_id):
        raise NotFound("target")
    target = session.exec(
        select(Target).where(Target.id == target_id, Target.workspace_id == workspace_id)
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
        fields["name"] = check_name(fields["name"])
    check_request_fields(fields, config, flat=True)


def _name_taken(
    session: Session, workspace_id: int, name: str, except_id: int | None = None
) -> bool:
    query = select(Target.id).where(Target.workspace_id == workspace_id, Target.name == name)
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


def new_target(
    *, workspace_id: int, fields: dict[str, Any], now: datetime, config: ServiceConfig
) -> Target:
    """A validated Target, not yet added to a session (its name may still be taken)."""
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
    fields["headers"] = unmask_headers(fields["headers"], None, "headers")
    fields["url"] = unmask_url(fields["url"], None, "url")
    if "name" not in fields:
        raise InvalidInput("name", "a name is required")
    return Target(workspace_id=workspace_id, created_at=now, updated_at=now, **fields)


def create_target(
    session: Session,
    *,
    access: Access,
    fields: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
) -> Target:
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    target = new_target(workspace_id=workspace_id, fields=fields, now=now, config=config)
    if _name_taken(session, workspace_id, target.name):
        raise Conflict(f"a target named {target.name!r} already exists", field="name")
    _flush_target(session, target)
    _record(session, access, "target.create", target.id, None, audit.snapshot(target))
    return target


def _record(
    session: Session,
    access: Access,
    action: str,
    target_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        access,
        action,
        workspace_id=access.workspace_id,
        object_type="target",
        object_id=target_id,
        changes=audit.diff("target", before, after),
    )


def edit_target(
    target: Target, changes: dict[str, Any], *, now: datetime, config: ServiceConfig
) -> dict[str, Any]:
    """Validate a partial edit and apply it to `target` (no I/O); the changes as applied."""
    changes = dict(changes)
    if "headers" in changes and changes["headers"] is not None:
        changes["headers"] = unmask_headers(changes["headers"], target.headers, "headers")
    if changes.get("url") is not None:
        changes["url"] = unmask_url(changes["url"], target.url, "url")
    _check_target_fields(changes, config)
    for name, value in changes.items():
        setattr(target, name, value)
    target.updated_at = now
    return changes


def update_target(
    session: Session,
    *,
    access: Access,
    target_id: int,
    changes: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
) -> Target:
    """A partial edit; schedules using the target send the new request from their next run."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    target = get_target(session, workspace_id=workspace_id, target_id=target_id)
    before = audit.snapshot(target)
    with session.no_autoflush:  # the edited name is checked before it is written
        applied = edit_target(target, changes, now=now, config=config)
        if "name" in applied and _name_taken(session, workspace_id, applied["name"], target.id):
            raise Conflict(f"a target named {applied['name']!r} already exists", field="name")
    _flush_target(session, target)
    _record(session, access, "target.update", target.id, before, audit.snapshot(target))
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
    session: Session, *, workspace_id: int, limit: int | None = None, cursor: str | None = None
) -> Page[Target]:
    size = page_size(limit)
    after = decode_cursor("t", cursor)
    query = select(Target).where(Target.workspace_id == workspace_id)
    if after is not None:
        query = query.where(Target.id > after)
    return make_page(session.exec(query.order_by(Target.id).limit(size + 1)).all(), size, "t")


def delete_target(session: Session, *, access: Access, target_id: int) -> None:
    """Refused (409, naming them) while schedules use the target."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    target = get_target(session, workspace_id=workspace_id, target_id=target_id)
    usage = target_usage(session, [target.id])[target.id]
    if usage.count:
        raise Conflict(_in_use_message(usage), code="target_in_use")
    before = audit.snapshot(target)
    try:
        with session.begin_nested():
            session.exec(delete(Target).where(Target.id == target.id))  # type: ignore[call-overload]
    except IntegrityError:
        # A schedule started using it meanwhile.
        usage = target_usage(session, [target.id])[target.id]
        raise Conflict(_in_use_message(usage), code="target_in_use") from None
    _record(session, access, "target.delete", target_id, before, None)


def _in_use_message(usage: TargetUsage) -> str:
    shown = ", ".join(f"{name!r} (id {schedule_id})" for schedule_id, name in usage.schedules)
    more = usage.count - len(usage.schedules)
    suffix = f" and {more} more" if more > 0 else ""
    noun = "schedule" if usage.count == 1 else "schedules"
    return f"target is used by {usage.count} {noun}: {shown}{suffix}"
