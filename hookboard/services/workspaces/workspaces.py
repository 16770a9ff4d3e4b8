"""Workspaces: list a person's, create, rename and delete one.

Keyword-only functions on a Session. Each mutating one is a unit of work: it
checks the permission table, writes the change and its audit row, and commits
(like services.accounts); readers never commit. Failures are the services'
errors (InvalidInput -> 422, NotFound -> 404, Conflict -> 409, Forbidden -> 403).

Deleting stops the workspace at once (lifecycle.stop_workspaces: no key or
session acts in it, nothing fires) and purges its rows in batches, for a
moment here and then by the tickers, so no long lock is ever held. A personal
workspace goes with its user's account, never on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from hookboard.models import Membership, Workspace
from hookboard.services import audit, crud
from hookboard.services.errors import Conflict, InvalidInput, NotFound
from hookboard.services.fields import check_name
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.lifecycle import purge_now, stop_workspaces
from hookboard.services.workspaces.permissions import Access, Action, Role
from hookboard.settings import Settings, get_settings


@dataclass(frozen=True)
class WorkspaceSummary:
    id: int
    name: str
    role: Role  # the viewer's role in it
    personal: bool  # made at sign-up for its user: it goes with their account
    created_at: datetime


@dataclass(frozen=True)
class DeletedWorkspace:
    id: int
    deleted_at: datetime
    data_deleted: bool  # False: the tickers delete the rest within minutes


def summary_of(workspace: Workspace, role: str) -> WorkspaceSummary:
    return WorkspaceSummary(
        id=workspace.id,
        name=workspace.name,
        role=Role(role),
        personal=workspace.personal_for_user_id is not None,
        created_at=workspace.created_at,
    )


def live_workspace(session: Session, workspace_id: int, *, for_update: bool = False) -> Workspace:
    """The workspace, unless deleted. `for_update` locks its row (PostgreSQL; SQLite's
    writes are serial anyway): membership changes that count owners or members
    take it first, so two of them cannot both pass a check the pair breaks."""
    query = select(Workspace).where(
        Workspace.id == workspace_id, col(Workspace.deleted_at).is_(None)
    )
    if for_update:
        query = query.with_for_update()
    workspace = session.exec(query).first()
    if workspace is None:
        raise NotFound("workspace")
    return workspace


def count_workspaces_of(session: Session, user_id: int) -> int:
    """How many live workspaces the user belongs to (MAX_WORKSPACES_PER_USER bounds it)."""
    return session.exec(
        select(func.count())
        .select_from(Membership)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(Membership.user_id == user_id, col(Workspace.deleted_at).is_(None))
    ).one()


def check_workspace_quota(session: Session, user_id: int, settings: Settings) -> None:
    """Refuse one more workspace to a user who is at MAX_WORKSPACES_PER_USER."""
    limit = settings.max_workspaces_per_user
    if count_workspaces_of(session, user_id) >= limit:
        raise Conflict(
            f"at most {limit} workspaces per user (MAX_WORKSPACES_PER_USER); leave or delete one"
            " first",
            code="quota_exceeded",
        )


def list_workspaces(session: Session, *, user_id: int) -> list[WorkspaceSummary]:
    """The user's live workspaces: their personal one first, then the oldest first."""
    own_first = case((Workspace.personal_for_user_id == user_id, 0), else_=1)
    rows = session.exec(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id, col(Workspace.deleted_at).is_(None))
        .order_by(own_first, col(Workspace.id))
    ).all()
    return [summary_of(workspace, role) for workspace, role in rows]


def get_workspace(session: Session, *, access: Access) -> WorkspaceSummary:
    """The workspace `access` acts in, as its member sees it (a person's view: no key)."""
    permissions.check(access, Action.account)
    return summary_of(live_workspace(session, access.workspace_id), access.role)


def create_workspace(
    session: Session,
    *,
    access: Access,
    name: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> WorkspaceSummary:
    """A new workspace the person owns (with its own signing secret). `access` is
    theirs in any workspace: only its user counts."""
    permissions.check(access, Action.account)
    name = check_name(name)
    now = now or datetime.now(UTC)
    check_workspace_quota(session, access.user_id, settings or get_settings())
    workspace = crud.create_workspace(session, name=name, owner_id=access.user_id)
    audit.record(
        session,
        access,
        "workspace.create",
        workspace_id=workspace.id,
        object_type="workspace",
        object_id=workspace.id,
        changes={"name": [None, name]},
        at=now,
    )
    session.commit()
    return summary_of(workspace, Role.owner)


def rename_workspace(
    session: Session, *, access: Access, name: str, now: datetime | None = None
) -> WorkspaceSummary:
    """Owners only (Action.own)."""
    permissions.check(access, Action.own)
    name = check_name(name)
    workspace = live_workspace(session, access.workspace_id, for_update=True)
    before = workspace.name
    if name != before:
        now = now or datetime.now(UTC)
        workspace.name = name
        workspace.updated_at = now
        session.add(workspace)
        audit.record(
            session,
            access,
            "workspace.rename",
            workspace_id=workspace.id,
            object_type="workspace",
            object_id=workspace.id,
            changes={"name": [before, name]},
            at=now,
        )
    session.commit()
    return summary_of(workspace, access.role)


def delete_workspace(
    session: Session, *, access: Access, confirm: str, now: datetime | None = None
) -> DeletedWorkspace:
    """Stop the workspace now and delete its data. Owners only, who confirm by
    typing its name; a personal workspace is a 409 (it goes with the account)."""
    permissions.check(access, Action.own)
    workspace = live_workspace(session, access.workspace_id, for_update=True)
    if workspace.personal_for_user_id is not None:
        raise Conflict(
            "a personal workspace cannot be deleted on its own: it goes with its user's account"
            " (DELETE /api/v1/account)",
            code="personal_workspace",
        )
    if not isinstance(confirm, str) or confirm.strip() != workspace.name:
        raise InvalidInput("confirm", "type the workspace's name exactly to confirm its deletion")
    now = now or datetime.now(UTC)
    audit.record(
        session,
        access,
        "workspace.delete",
        workspace_id=workspace.id,
        object_type="workspace",
        object_id=workspace.id,
        changes={"name": [workspace.name, None]},
        at=now,
    )
    stop_workspaces(session, [workspace.id], now)
    session.commit()
    finished = purge_now(session, [workspace.id])
    return DeletedWorkspace(id=workspace.id, deleted_at=now, data_deleted=finished)
