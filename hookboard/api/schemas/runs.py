"""Response bodies of /runs: the delivery log, a run's attempts, a replay."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from hookboard.core.redaction import redact_headers, redact_url
from hookboard.models import Attempt, Run

RunStatusName = Literal["pending", "running", "retrying", "succeeded", "failed", "skipped"]


class RunPublic(BaseModel):
    id: int
    schedule_id: int
    scheduled_for: datetime
    trigger: str
    status: RunStatusName
    attempt_count: int
    max_attempts: int
    status_code: int | None
    latency_ms: float | None
    error_class: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, run: Run) -> RunPublic:
        return cls.model_validate(run, from_attributes=True)


class AttemptRequest(BaseModel):
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


class AttemptResponse(BaseModel):
    status_code: int | None
    headers: dict[str, str]
    body_excerpt: str | None


class AttemptPublic(BaseModel):
    id: int
    number: int
    started_at: datetime
    latency_ms: float | None
    error_class: str
    error_message: str | None
    status_code: int | None
    request: AttemptRequest
    response: AttemptResponse

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptPublic:
        return cls(
            id=attempt.id,
            number=attempt.number,
            started_at=attempt.started_at,
            latency_ms=attempt.latency_ms,
            error_class=attempt.error_class,
            error_message=attempt.error_message,
            status_code=attempt.status_code,
            request=AttemptRequest(
                method=attempt.request_method,
                url=redact_url(attempt.request_url),
                headers=redact_headers(attempt.request_headers or {}),
                body=attempt.request_body,
            ),
            response=AttemptResponse(
                status_code=attempt.status_code,
                headers=redact_headers(attempt.response_headers or {}),
                body_excerpt=attempt.response_body,
            ),
        )


class RunDetail(RunPublic):
    attempts: list[AttemptPublic]


class RunPage(BaseModel):
    items: list[RunPublic]
    next_cursor: str | None


class ReplayResponse(BaseModel):
    run_id: int
