"""The shape of one audit_events row, shared by the services (a user's change)
and the engine (a schedule's auto-pause), which write it in their own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

# Bounds on what a request may put in a row (the columns' sizes).
MAX_USER_AGENT_CHARS = 300
MAX_IP_CHARS = 45
ACTOR_TYPES = ("user", "api_key", "system")


def audit_row(
    *,
    workspace_id: int,
    at: datetime,
    action: str,
    object_type: str,
    object_id: int | str | None,
    changes: dict[str, Any] | None,
    actor_type: str,
    actor_id: int | None = None,
    actor_email: str | None = None,
    actor_user_id: int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> dict[str, Any]:
    """The column values of one audit row; `changes` is {field: [before, after]}, masked."""
    return {
        "workspace_id": workspace_id,
        "at": at,
        "actor_type": actor_type,
        "actor_id": actor_id,
        "actor_email": actor_email,
        "actor_user_id": actor_user_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "changes": changes or {},
        "ip": ip[:MAX_IP_CHARS] if ip else None,
        "user_agent": user_agent[:MAX_USER_AGENT_CHARS] if user_agent else None,
    }
