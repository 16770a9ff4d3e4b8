"""Writing one audit row beside the change it describes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from hookboard.core.audit_rows import audit_row
from hookboard.models import AuditEvent, User, Workspace
from hookboard.services.workspaces.permissions import Access


@dataclass(frozen=True)
class Actor:
    """Who acted when no request did: the engine (auto-pause) or an operator's CLI;
    or a person before they hold an Access (a login)."""

    type: str  # "system" or "user"
    id: int | None = None
    email: str | None = None
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor("system")


def record(
    session: Session,
    actor: Access | Actor,
    action: str,
    *,
    workspace_id: int,
    object_type: str,
    object_id: int | str | None = None,
    changes: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit row to `session` (the caller commits it with the change).
    `changes` is {field: [before, after]}, secrets already masked (see audit.changes)."""
    event = AuditEvent(
        **audit_row(
            workspace_id=workspace_id,
            at=at or datetime.now(UTC),
            action=action,
            object_type=object_type,
            object_id=object_id,
            changes=changes,
            **_actor_columns(session, actor),
        )
    )
    session.add(event)
    return event


def record_for_person(
    session: Session,
    actor: Access | Actor,
    action: str,
    *,
    user_id: int,
    changes: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record an account's own event (a login, a password change) in the person's
    personal workspace, where its owner reads it; None if they have none."""
    with session.no_autoflush:
        workspace_id = session.exec(
            select(Workspace.id).where(Workspace.personal_for_user_id == user_id)
        ).first()
    if workspace_id is None:
        return None
    return record(
        session,
        actor,
        action,
        workspace_id=workspace_id,
        object_type="user",
        object_id=user_id,
        changes=changes,
    )


def record_login(
    session: Session,
    action: str,
    *,
    user_id: int,
    email: str,
    client_ip: str | None,
    user_agent: str | None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """auth.login or auth.login_failed of a known account, before any Access exists."""
    actor = Actor("user", id=user_id, email=email, ip=client_ip, user_agent=user_agent)
    return record_for_person(session, actor, action, user_id=user_id, changes=changes)


def _actor_columns(session: Session, actor: Access | Actor) -> dict[str, Any]:
    if isinstance(actor, Actor):
        return {
            "actor_type": actor.type,
            "actor_id": actor.id,
            "actor_email": actor.email,
            "actor_user_id": actor.id if actor.type == "user" else None,
            "ip": actor.ip,
            "user_agent": actor.user_agent,
        }
    common = {"ip": actor.client_ip, "user_agent": actor.user_agent}
    if actor.is_key:
        return {
            "actor_type": "api_key",
            "actor_id": actor.api_key_id,
            "actor_email": actor.email or _email_of(session, actor.user_id),
            "actor_user_id": actor.user_id,
            **common,
        }
    return {
        "actor_type": "user",
        "actor_id": actor.user_id,
        "actor_email": actor.email or _email_of(session, actor.user_id),
        "actor_user_id": actor.user_id,
        **common,
    }


def _email_of(session: Session, user_id: int | None) -> str | None:
    """A key's creator (or a person whose access lacks it): None once the account is gone."""
    if user_id is None:
        return None
    with session.no_autoflush:
        return session.exec(select(User.email).where(User.id == user_id)).first()
