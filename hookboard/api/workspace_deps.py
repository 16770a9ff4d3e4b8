"""The caller of a route whose workspace is in its path: /workspaces/{id}/...

    def route(session: SessionDep, caller: Annotated[Access, Depends(in_workspace(Action.manage))])

The path names the workspace (the Hookboard-Workspace header does not count
here). A session acts in it with its user's role there; a user who is not a
member, a deleted workspace and a missing id are all the same 404. A key acts
only in its own workspace (another is that 404). Then the permission table
decides: a member whose role lacks the right gets 403 `forbidden` naming the
role needed, and a key never manages members, invitations or the workspace.
Rate limits count as for every authenticated request (deps.get_access).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request, Response

from hookboard.api.deps import SessionDep, get_access
from hookboard.services import MAX_ID
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

WorkspaceId = Annotated[int, Path(alias="id", ge=1, le=MAX_ID, description="The workspace's id.")]


def in_workspace(action: Action):
    """The dependency of a /workspaces/{id}/... route that takes `action`."""

    def check(
        request: Request,
        response: Response,
        session: SessionDep,
        workspace_id: WorkspaceId,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Access:
        # get_access resolves the membership in the workspace it is given as the
        # header's: credentials.find_session(..., workspace_id) and session_access.
        access = get_access(
            request,
            response,
            session,
            authorization=authorization,
            hookboard_workspace=str(workspace_id),
        )
        permissions.check(access, action)
        return access

    check.action = action  # read by the route-table test: every route names its action
    return check


# Any member, signed in (a key never: Action.account is a person's).
WorkspaceMember = Annotated[Access, Depends(in_workspace(Action.account))]
WorkspaceManager = Annotated[Access, Depends(in_workspace(Action.manage))]
WorkspaceOwner = Annotated[Access, Depends(in_workspace(Action.own))]
