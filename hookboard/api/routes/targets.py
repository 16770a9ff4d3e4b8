"""/targets: reusable named requests, and a one-off test delivery.

Another user's target answers 404 exactly as a missing one. A target still
used by schedules cannot be deleted (409 naming them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from hookboard import services as service
from hookboard.api.common import (
    Cursor,
    IdempotencyKey,
    Limit,
    idempotent,
    service_config,
    utcnow,
)
from hookboard.api.deps import Caller, SessionDep, WriteCaller
from hookboard.api.schemas.targets import (
    TargetCreate,
    TargetPage,
    TargetPublic,
    TargetTest,
    TargetTestResult,
    TargetUpdate,
)
from hookboard.core.redaction import redact_headers

router = APIRouter(prefix="/targets", tags=["targets"])


def _public(session, target) -> TargetPublic:
    return TargetPublic.of(target, service.target_usage(session, [target.id])[target.id])


@router.post("/test", response_model=TargetTestResult)
async def test_delivery(body: TargetTest, session: SessionDep, caller: WriteCaller) -> Any:
    """Send one real request now, through the same SSRF guard and client as the
    engine, signed with your secret (webhook-id `test_...`); nothing is recorded."""
    config = service_config()
    fields = {
        **body.request.model_dump(),
        "timeout_seconds": body.timeout_seconds,
        "follow_redirects": body.follow_redirects,
    }
    now = datetime.now(UTC)

    outbound, secrets = await run_in_threadpool(
        service.prepare_test_delivery,
        session,
        fields,
        access=caller,
        config=config,
        now=now,
    )
    outcome = await service.send_test_delivery(outbound, secrets=secrets, config=config)
    return TargetTestResult(
        status_code=outcome.status_code,
        latency_ms=round(outcome.latency_ms, 3),
        error_class=outcome.error_class,
        error_message=outcome.error_message,
        response_headers=redact_headers(outcome.response_headers),
        body_excerpt=outcome.body_excerpt,
    )


@router.post("", status_code=201, response_model=TargetPublic)
def create_target(
    body: TargetCreate,
    session: SessionDep,
    caller: WriteCaller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def produce() -> tuple[int, Any]:
        target = service.create_target(
            session,
            access=caller,
            fields=body.model_dump(),
            now=utcnow(),
            config=service_config(),
        )
        session.commit()
        return 201, TargetPublic.of(target, service.TargetUsage()).model_dump(mode="json")

    return idempotent(
        caller=caller,
        key=idempotency_key,
        request=request,
        payload=lambda: body.model_dump(mode="json"),
        produce=produce,
    )


@router.get("", response_model=TargetPage)
def list_targets(
    session: SessionDep,
    caller: Caller,
    limit: Limit = service.DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> TargetPage:
    """Oldest first, each with the schedules using it."""
    page = service.list_targets(
        session, workspace_id=caller.workspace_id, limit=limit, cursor=cursor
    )
    usage = service.target_usage(session, [target.id for target in page.items])
    return TargetPage(
        items=[TargetPublic.of(target, usage[target.id]) for target in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{target_id}", response_model=TargetPublic)
def get_target(target_id: int, session: SessionDep, caller: Caller) -> TargetPublic:
    target = service.get_target(session, workspace_id=caller.workspace_id, target_id=target_id)
    return _public(session, target)


@router.patch("/{target_id}", response_model=TargetPublic)
def update_target(
    target_id: int, body: TargetUpdate, session: SessionDep, caller: WriteCaller
) -> TargetPublic:
    """Schedules using the target send the new request from their next run on."""
    target = service.update_target(
        session,
        access=caller,
        target_id=target_id,
        changes=body.to_changes(),
        now=utcnow(),
        config=service_config(),
    )
    session.commit()
    return _public(session, target)


@router.delete("/{target_id}", status_code=204, response_class=Response)
def delete_target(target_id: int, session: SessionDep, caller: WriteCaller) -> None:
    """409 `target_in_use`, naming the schedules, while any schedule uses it."""
    service.delete_target(session, access=caller, target_id=target_id)
    session.commit()
