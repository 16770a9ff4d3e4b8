"""/notification-channels: where a user's alerts go, and a test alert.

Alerts (a run failed after its retries, a schedule paused itself, a schedule
recovered) go to every enabled channel of the schedule's owner. Another
user's channel answers 404 exactly like a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from hookboard import services as service
from hookboard.alerts.senders import Smtp
from hookboard.api.common import (
    Cursor,
    IdempotencyKey,
    Limit,
    idempotent,
    service_config,
    utcnow,
)
from hookboard.api.deps import AdminCaller, Caller, SessionDep
from hookboard.api.schemas.channels import (
    ChannelCreate,
    ChannelPage,
    ChannelPublic,
    ChannelTestResult,
    ChannelUpdate,
)
from hookboard.services import channels
from hookboard.settings import get_settings

router = APIRouter(prefix="/notification-channels", tags=["notification channels"])


def _smtp() -> Smtp:
    return Smtp.from_settings(get_settings())


@router.post("", status_code=201, response_model=ChannelPublic)
def create_channel(
    body: ChannelCreate,
    session: SessionDep,
    caller: AdminCaller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """A webhook (Slack-compatible JSON) or email (needs SMTP_HOST) channel."""

    def produce() -> tuple[int, Any]:
        channel = channels.create_channel(
            session,
            access=caller,
            fields=body.model_dump(),
            now=utcnow(),
            config=service_config(),
            smtp_configured=_smtp().configured,
        )
        session.commit()
        return 201, ChannelPublic.of(channel).model_dump(mode="json")

    return idempotent(
        caller=caller,
        key=idempotency_key,
        request=request,
        payload=lambda: body.model_dump(mode="json"),
        produce=produce,
    )


@router.get("", response_model=ChannelPage)
def list_channels(
    session: SessionDep,
    caller: Caller,
    limit: Limit = service.DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> ChannelPage:
    """Oldest first."""
    page = channels.list_channels(
        session, workspace_id=caller.workspace_id, limit=limit, cursor=cursor
    )
    return ChannelPage(
        items=[ChannelPublic.of(channel) for channel in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{channel_id}", response_model=ChannelPublic)
def get_channel(channel_id: int, session: SessionDep, caller: Caller) -> ChannelPublic:
    channel = channels.get_channel(session, workspace_id=caller.workspace_id, channel_id=channel_id)
    return ChannelPublic.of(channel)


@router.patch("/{channel_id}", response_model=ChannelPublic)
def update_channel(
    channel_id: int, body: ChannelUpdate, session: SessionDep, caller: AdminCaller
) -> ChannelPublic:
    channel = channels.update_channel(
        session,
        access=caller,
        channel_id=channel_id,
        changes=body.to_changes(),
        now=utcnow(),
        config=service_config(),
    )
    session.commit()
    return ChannelPublic.of(channel)


@router.delete("/{channel_id}", status_code=204, response_class=Response)
def delete_channel(channel_id: int, session: SessionDep, caller: AdminCaller) -> None:
    """The channel and any of its alerts still waiting to be sent."""
    channels.delete_channel(session, access=caller, channel_id=channel_id)
    session.commit()


@router.post("/{channel_id}/test", response_model=ChannelTestResult)
async def test_channel(channel_id: int, session: SessionDep, caller: AdminCaller) -> Any:
    """Send a test alert now, the way the worker sends alerts (once, no retries)."""

    alert = await run_in_threadpool(
        channels.prepare_test_alert,
        session,
        access=caller,
        channel_id=channel_id,
        now=datetime.now(UTC),
    )
    error = await channels.send_test_alert(alert, config=service_config(), smtp=_smtp())
    return ChannelTestResult(ok=error is None, error=error)
