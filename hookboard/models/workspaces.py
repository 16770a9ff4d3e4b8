"""Workspaces, their members and invitations, and the audit log of every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookboard.domain.limits import MAX_NAME_CHARS
from hookboard.models.columns import NEVER_REUSE_IDS, big_pk, fk, json_column, utcnow


class Workspace(SQLModel, table=True):
    """What owns schedules, targets, runs, channels, keys and secrets."""

    __tablename__ = "workspaces"
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = big_pk()
    name: str = Field(max_length=MAX_NAME_CHARS)
    # Set on the workspace made at sign-up: where a session acts by default.
    # SET NULL: an account's purge deletes its personal workspace in batches.
    personal_for_user_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, unique=True
        ),
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Set = deleted: nothing fires, no credential acts in it, and the purge
    # removes its rows in batches (engine/workspace_purge).
    deleted_at: datetime | None = Field(default=None, index=True)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id", name="uq_memberships_workspace_user"),
    )

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id", index=False)
    user_id: int = fk("users.id")
    role: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    """A single-use invitation; only its token's hash is stored."""

    __tablename__ = "invitations"
    __table_args__ = (
        # One open invitation per address and workspace: a new one replaces it.
        UniqueConstraint("workspace_id", "email", name="uq_invitations_workspace_email"),
        NEVER_REUSE_IDS,
    )

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id", index=False)
    email: str = Field(max_length=320)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_user_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, from where: written in the change's own transaction."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_workspace_id_desc", "workspace_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id", index=False)
    at: datetime = Field(default_factory=utcnow, index=True)
    # No foreign keys: the log outlives the users and keys it names.
    actor_type: str = Field(max_length=16)  # "user", "api_key" or "system"
    actor_id: int | None = Field(default=None, sa_type=BigInteger)
    actor_email: str | None = Field(default=None, max_length=320)
    # For a key: the user who created it.
    actor_user_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(max_length=48)
    object_type: str = Field(max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = json_column({})
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=300)
