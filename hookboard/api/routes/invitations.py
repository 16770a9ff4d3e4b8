"""Invitations: /workspaces/{id}/invitations (admins) and /invitations/accept.

The token is shown once, in the 201 of POST (as `token` and as `link`), and
emailed when SMTP_HOST is set; only its hash is stored. The invited person
accepts signed in (or signed up) with the invited address. Unknown, expired,
used and revoked tokens get one 404: "invitation not found or expired".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from hookboard.api.deps import PersonCaller, SessionDep
from hookboard.api.errors import ApiError
from hookboard.api.schemas.workspaces import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    InvitationPublic,
    WorkspacePublic,
)
from hookboard.api.workspace_deps import WorkspaceManager
from hookboard.services import MAX_ID
from hookboard.services.workspaces import invitations

router = APIRouter(tags=["workspaces"])

InvitationId = Annotated[int, Path(ge=1, le=MAX_ID, description="The invitation's id.")]


@router.get("/workspaces/{id}/invitations", response_model=InvitationList)
def list_invitations(session: SessionDep, caller: WorkspaceManager) -> InvitationList:
    """Invitations not yet accepted nor expired, oldest first (never their tokens)."""
    found = invitations.list_invitations(session, access=caller)
    return InvitationList(items=[InvitationPublic.of(info) for info in found])


@router.post("/workspaces/{id}/invitations", status_code=201, response_model=InvitationCreated)
def invite(
    body: InvitationCreate, session: SessionDep, caller: WorkspaceManager, response: Response
) -> InvitationCreated:
    """Invite an address with a role (admins; only owners invite owners). A second
    invitation to the same address replaces the first. `token` and `link` are
    shown in this response only."""
    created = invitations.invite(session, access=caller, email=body.email, role=body.role)
    response.headers["Cache-Control"] = "no-store"
    return InvitationCreated.of_created(created)


@router.delete(
    "/workspaces/{id}/invitations/{invitation_id}", status_code=204, response_class=Response
)
def revoke_invitation(
    invitation_id: InvitationId, session: SessionDep, caller: WorkspaceManager
) -> None:
    """Withdraw an invitation before it is used: its link stops working."""
    invitations.revoke_invitation(session, access=caller, invitation_id=invitation_id)


@router.post("/invitations/accept", response_model=WorkspacePublic)
def accept_invitation(
    body: InvitationAccept, session: SessionDep, caller: PersonCaller
) -> WorkspacePublic:
    """Join the workspace you were invited to, signed in with the invited address
    (403 otherwise); 409 `already_member` if you are one."""
    try:
        joined = invitations.accept_invitation(
            session,
            user_id=caller.user_id,
            token=body.token,
            client_ip=caller.client_ip,
            user_agent=caller.user_agent,
        )
    except invitations.InvitationNotFound as error:
        raise ApiError(404, str(error)) from None
    return WorkspacePublic.of(joined)
