"""Request and response bodies of /workspaces, their members and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from hookboard.api.schemas.accounts import Email
from hookboard.api.schemas.common import Name, Strict
from hookboard.domain.limits import MAX_NAME_CHARS
from hookboard.services.workspaces.invitations import (
    MAX_TOKEN_CHARS,
    CreatedInvitation,
    InvitationInfo,
)
from hookboard.services.workspaces.members import MemberInfo
from hookboard.services.workspaces.permissions import Role
from hookboard.services.workspaces.workspaces import DeletedWorkspace, WorkspaceSummary

RoleField = Annotated[
    Role, Field(description="viewer, editor, admin or owner; each holds the rights below it.")
]


class WorkspaceCreate(Strict):
    name: Name


class WorkspaceUpdate(Strict):
    name: Name


class WorkspaceDelete(Strict):
    confirm: Annotated[
        str,
        Field(
            max_length=MAX_NAME_CHARS + 100,
            description="The workspace's name, typed again: deleting cannot be undone.",
        ),
    ]


class WorkspacePublic(BaseModel):
    id: int
    name: str
    role: Role = Field(description="Your role in it.")
    personal: bool = Field(
        description="Made at sign-up for its user; it goes with their account, not on its own."
    )
    created_at: datetime

    @classmethod
    def of(cls, summary: WorkspaceSummary) -> WorkspacePublic:
        return cls(
            id=summary.id,
            name=summary.name,
            role=summary.role,
            personal=summary.personal,
            created_at=summary.created_at,
        )


class WorkspaceList(BaseModel):
    items: list[WorkspacePublic]


class WorkspaceDeleted(BaseModel):
    id: int
    deleted_at: datetime
    data_deleted: bool = Field(
        description="False: the rest of the data is deleted in the background within minutes."
    )

    @classmethod
    def of(cls, deleted: DeletedWorkspace) -> WorkspaceDeleted:
        return cls(id=deleted.id, deleted_at=deleted.deleted_at, data_deleted=deleted.data_deleted)


class MemberUpdate(Strict):
    role: RoleField


class MemberPublic(BaseModel):
    user_id: int
    email: str
    role: Role
    joined_at: datetime

    @classmethod
    def of(cls, member: MemberInfo) -> MemberPublic:
        return cls(
            user_id=member.user_id, email=member.email, role=member.role, joined_at=member.joined_at
        )


class MemberList(BaseModel):
    items: list[MemberPublic]


class InvitationCreate(Strict):
    email: Email
    role: RoleField


class InvitationPublic(BaseModel):
    id: int
    email: str
    role: Role
    expires_at: datetime
    invited_by_email: str | None = Field(description="Null once the inviter's account is gone.")

    @classmethod
    def of(cls, info: InvitationInfo) -> InvitationPublic:
        return cls(
            id=info.id,
            email=info.email,
            role=info.role,
            expires_at=info.expires_at,
            invited_by_email=info.invited_by_email,
        )


class InvitationCreated(InvitationPublic):
    token: str = Field(description="The single-use token; shown only in this response.")
    link: str = Field(
        description="Where the invited person accepts: PUBLIC_URL/invite?token=..., or"
        " relative when PUBLIC_URL is not set."
    )
    emailed: bool = Field(description="True when SMTP is set and the email was sent.")

    @classmethod
    def of_created(cls, created: CreatedInvitation) -> InvitationCreated:
        return cls(
            **InvitationPublic.of(created.info).model_dump(),
            token=created.token,
            link=created.link,
            emailed=created.emailed,
        )


class InvitationList(BaseModel):
    items: list[InvitationPublic]


class InvitationAccept(Strict):
    token: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_CHARS)]
