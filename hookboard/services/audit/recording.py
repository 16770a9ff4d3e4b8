"""Writing one audit row beside the change it describes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hookboard.models import AuditEvent
from hookboard.services.workspaces.permissions import Access

MAX_USER_AGENT_CHARS = 300


@dataclass(frozen=True)
class Actor:
    """Who acted when no request did: the engine (auto-pause) or an operator's CLI."""

    type: str  # "system"
    id: int | None = None
    email: str | None = None


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
    `changes` is {field: [before, after]}, secrets already masked."""
    event = AuditEvent(
        workspace_id=workspace_id,
        at=at or datetime.now(UTC),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=changes or {},
        **_actor_columns(actor),
    )
    session.add(event)
    return event


def _actor_columns(actor: Access | Actor) -> dict[str, Any]:
    if isinstance(actor, Actor):
        return {"actor_type": actor.type, "actor_id": actor.id, "actor_email": actor.email}
    agent = actor.user_agent[:MAX_USER_AGENT_CHARS] if actor.user_agent else None
    common = {"ip": actor.client_ip, "user_agent": agent}
    if actor.is_key:
        return {
            "actor_type": "api_key",
            "actor_id": actor.api_key_id,
            "actor_user_id": actor.user_id,
            **common,
        }
    return {
        "actor_type": "user",
        "actor_id": actor.user_id,
        "actor_email": actor.email,
        "actor_user_id": actor.user_id,
        **common,
    }
