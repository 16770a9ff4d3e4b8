"""/workspaces: a person's workspaces (list, create, rename, delete) and their members.

Under /workspaces/{id} the workspace is the path's: a user who is not a
member gets 404 exactly as for a missing id, a member whose role lacks the
right 403 `forbidden` naming the role needed (api.workspace_deps). API keys
never reach these routes (403): workspaces and members are a person's business.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from hookboard.api.deps import PersonCaller, SessionDep
from hookboard.api.schemas.workspaces import (
    MemberList,
    MemberPublic,
    MemberUpdate,
    WorkspaceCreate,
    WorkspaceDelete,
    WorkspaceDeleted,
    WorkspaceList,
    WorkspacePublic,
    WorkspaceUpdate,
)
from hookboard.api.workspace_deps import (
    WorkspaceManager,
    WorkspaceMember,
    WorkspaceOwner,
)
from hookboard.services import MAX_ID
from hookboard.services.workspaces import members, workspaces

router = APIRouter(prefix="/workspaces", tags=["workspaces"])

UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The member's user id.")]


@router.get("", response_model=WorkspaceList)
def list_workspaces(session: SessionDep, caller: PersonCaller) -> WorkspaceList:
    """Every workspace you belong to, with your role in each: your personal one
    first, then the oldest first."""
    found = workspaces.list_workspaces(session, user_id=caller.user_id)
    return WorkspaceList(items=[WorkspacePublic.of(summary) for summary in found])


@router.post("", status_code=201, response_model=WorkspacePublic)
def create_workspace(
    body: WorkspaceCreate, session: SessionDep, caller: PersonCaller
) -> WorkspacePublic:
    """A new workspace you own. Act in it with the `Hookboard-Workspace: <id>` header."""
    created = workspaces.create_workspace(session, access=caller, name=body.name)
    return WorkspacePublic.of(created)


@router.get("/{id}", response_model=WorkspacePublic)
def get_workspace(session: SessionDep, caller: WorkspaceMember) -> WorkspacePublic:
    return WorkspacePublic.of(workspaces.get_workspace(session, access=caller))


@router.patch("/{id}", response_model=WorkspacePublic)
def rename_workspace(
    body: WorkspaceUpdate, session: SessionDep, caller: WorkspaceOwner
) -> WorkspacePublic:
    """Rename it (owners)."""
    renamed = workspaces.rename_workspace(session, access=caller, name=body.name)
    return WorkspacePublic.of(renamed)


@router.delete("/{id}", response_model=WorkspaceDeleted)
def delete_workspace(
    body: WorkspaceDelete, session: SessionDep, caller: WorkspaceOwner
) -> WorkspaceDeleted:
    """Delete it (owners), typing its name as `confirm`: deliveries stop at once
    and its data is deleted in the background. A personal workspace is a 409
    `personal_workspace`: it goes with its account (DELETE /account)."""
    deleted = workspaces.delete_workspace(session, access=caller, confirm=body.confirm)
    return WorkspaceDeleted.of(deleted)


@router.get("/{id}/members", response_model=MemberList)
def list_members(session: SessionDep, caller: WorkspaceMember) -> MemberList:
    """Every member with their role, oldest first."""
    found = members.list_members(session, access=caller)
    return MemberList(items=[MemberPublic.of(member) for member in found])


@router.patch("/{id}/members/{user_id}", response_model=MemberPublic)
def change_role(
    user_id: UserId, body: MemberUpdate, session: SessionDep, caller: WorkspaceManager
) -> MemberPublic:
    """Give a member another role (admins). Making, demoting or removing an owner
    needs the owner role; the last owner cannot be demoted (409 `last_owner`)."""
    changed = members.change_role(session, access=caller, user_id=user_id, role=body.role)
    return MemberPublic.of(changed)


@router.delete("/{id}/members/{user_id}", status_code=204, response_class=Response)
def remove_member(user_id: UserId, session: SessionDep, caller: WorkspaceManager) -> None:
    """Take a member out (admins; owners to remove an owner). The API keys they
    made in the workspace are revoked with them."""
    members.remove_member(session, access=caller, user_id=user_id)


@router.post("/{id}/leave", status_code=204, response_class=Response)
def leave_workspace(session: SessionDep, caller: WorkspaceMember) -> None:
    """Leave the workspace (any role). Not your personal one, and not as its last owner."""
    members.leave_workspace(session, access=caller)
