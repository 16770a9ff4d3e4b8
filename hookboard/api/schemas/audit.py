"""The audit log's items as the API shows them (services.audit.event_json's shape)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class AuditActor(BaseModel):
    type: Literal["user", "api_key", "system"]
    id: int | None
    # A key's creator, when known; None for the system.
    email: str | None


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor: AuditActor
    action: str
    object_type: str
    object_id: str | None
    # {field: [before, after]}, secrets masked ("***").
    changes: dict[str, Any]
    ip: str | None
    user_agent: str | None


class AuditEventPage(BaseModel):
    items: list[AuditEventPublic]
    next_cursor: str | None
