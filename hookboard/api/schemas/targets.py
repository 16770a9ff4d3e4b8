"""Request and response bodies of /targets, and of a one-off test delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hookboard.api.schemas.common import (
    Body,
    Flag,
    Headers,
    Method,
    Name,
    Patch,
    Strict,
    Timeout,
    Url,
)
from hookboard.core.redaction import redact_headers, redact_url
from hookboard.models import Target
from hookboard.services import TargetUsage


class TargetCreate(Strict):
    name: Name
    url: Url
    method: Method = "POST"
    headers: Headers = Field(default_factory=dict)
    body: Body | None = None


class TargetUpdate(Patch):
    NOT_NULL = frozenset({"name", "url", "method", "headers"})

    name: Name | None = None
    url: Url | None = None
    method: Method | None = None
    headers: Headers | None = None
    body: Body | None = None

    def to_changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ScheduleRef(BaseModel):
    id: int
    name: str


class TargetPublic(BaseModel):
    id: int
    name: str
    url: str
    method: str
    headers: dict[str, str]
    body: str | None
    schedule_count: int = Field(description="How many schedules use this target.")
    schedules: list[ScheduleRef] = Field(description="The first 20 of them.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, target: Target, usage: TargetUsage) -> TargetPublic:
        return cls(
            id=target.id,
            name=target.name,
            url=redact_url(target.url),
            method=target.method,
            headers=redact_headers(target.headers or {}),
            body=target.body,
            schedule_count=usage.count,
            schedules=[ScheduleRef(id=i, name=n) for i, n in usage.schedules],
            created_at=target.created_at,
            updated_at=target.updated_at,
        )


class TargetPage(BaseModel):
    items: list[TargetPublic]
    next_cursor: str | None


class DeliveryRequestIn(Strict):
    url: Url
    method: Method = "POST"
    headers: Headers = Field(default_factory=dict)
    body: Body | None = None


class TargetTest(Strict):
    request: DeliveryRequestIn
    timeout_seconds: Timeout | None = Field(None, description="Default DEFAULT_TIMEOUT_SECONDS.")
    follow_redirects: Flag = False


class TargetTestResult(BaseModel):
    status_code: int | None
    latency_ms: float
    error_class: str
    error_message: str | None
    response_headers: dict[str, str]
    body_excerpt: str
