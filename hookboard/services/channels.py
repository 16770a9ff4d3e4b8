"""Notification channels as the API and the dashboard see them.

Keyword-only functions on a Session that validate, flush and never commit,
raising schedule_service's errors (InvalidInput -> 422, NotFound -> 404,
Conflict -> 409). Another user's channel is "not found" like a missing one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from hookboard.alerts import messages as alert_messages
from hookboard.alerts.senders import (
    AlertSendError,
    Destination,
    Outgoing,
    Smtp,
    send_alert,
)
from hookboard.core.redaction import redact_channel_url
from hookboard.core.secrets import live_secrets
from hookboard.models import ChannelKind, NotificationChannel
from hookboard.net.attempt import make_client
from hookboard.services import audit
from hookboard.services.config import ServiceConfig
from hookboard.services.errors import Conflict, InvalidInput, NotFound
from hookboard.services.fields import check_name, check_url_allowed
from hookboard.services.masking import unmask_url
from hookboard.services.pagination import Page, decode_cursor, make_page, page_size, valid_id
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

MAX_CHANNELS_PER_WORKSPACE = 20
MAX_EMAIL_CHARS = 320
# Deliberately loose (one @, no spaces or header-breaking characters); the
# SMTP server is the judge of the rest.
_EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+$")
_FIELDS = frozenset({"name", "kind", "url", "email", "enabled"})


def get_channel(session: Session, *, workspace_id: int, channel_id: int) -> NotificationChannel:
    if not valid_id(channel_id):
        raise NotFound("notification channel")
    channel = session.exec(
        select(NotificationChannel).where(
            NotificationChannel.id == channel_id, NotificationChannel.workspace_id == workspace_id
        )
    ).first()
    if channel is None:
        raise NotFound("notification channel")
    return channel


def list_channels(
    session: Session, *, workspace_id: int, limit: int | None = None, cursor: str | None = None
) -> Page[NotificationChannel]:
    size = page_size(limit)
    after = decode_cursor("c", cursor)
    query = select(NotificationChannel).where(NotificationChannel.workspace_id == workspace_id)
    if after is not None:
        query = query.where(NotificationChannel.id > after)
    rows = session.exec(query.order_by(NotificationChannel.id).limit(size + 1)).all()
    return make_page(rows, size, "c")


def create_channel(
    session: Session,
    *,
    access: Access,
    fields: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
    smtp_configured: bool,
) -> NotificationChannel:
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    fields = {name: value for name, value in fields.items() if value is not None}
    if fields.get("kind") not in tuple(ChannelKind):
        raise InvalidInput("kind", "must be one of webhook, email")
    _check_fields(fields, config)
    fields["url"] = unmask_url(fields.get("url"), None, "url", redact_channel_url)
    channel = NotificationChannel(
        workspace_id=workspace_id, created_at=now, updated_at=now, **fields
    )
    _check_destination(channel)
    if channel.kind == ChannelKind.email and not smtp_configured:
        raise InvalidInput("kind", "email alerts need SMTP_HOST to be set on the server")
    count = session.exec(
        select(func.count())
        .select_from(NotificationChannel)
        .where(NotificationChannel.workspace_id == workspace_id)
    ).one()
    if count >= MAX_CHANNELS_PER_WORKSPACE:
        raise Conflict(
            f"at most {MAX_CHANNELS_PER_WORKSPACE} notification channels per workspace;"
            " delete one first",
            code="quota_exceeded",
        )
    session.add(channel)
    session.flush()
    _record(session, access, "channel.create", channel, None, audit.snapshot(channel))
    return channel


def _record(
    session: Session,
    access: Access,
    action: str,
    channel: NotificationChannel,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        access,
        action,
        workspace_id=channel.workspace_id,
        object_type="channel",
        object_id=channel.id,
        changes=audit.diff("channel", before, after),
    )


def update_channel(
    session: Session,
    *,
    access: Access,
    channel_id: int,
    changes: dict[str, Any],
    now: datetime,
    config: ServiceConfig,
) -> NotificationChannel:
    """A partial edit; the kind is fixed at creation."""
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    channel = get_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    if "kind" in changes:
        raise InvalidInput("kind", "cannot be changed; create a new channel")
    before = audit.snapshot(channel)
    for name in ("name", "enabled"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    if changes.get("url") is not None:
        changes = {
            **changes,
            "url": unmask_url(changes["url"], channel.url, "url", redact_channel_url),
        }
    _check_fields(changes, config)
    for name, value in changes.items():
        setattr(channel, name, value)
    _check_destination(channel)
    channel.updated_at = now
    session.add(channel)
    session.flush()
    _record(session, access, "channel.update", channel, before, audit.snapshot(channel))
    return channel


def delete_channel(session: Session, *, access: Access, channel_id: int) -> None:
    """The channel and its queued alerts (ON DELETE CASCADE)."""
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    channel = get_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    _record(session, access, "channel.delete", channel, audit.snapshot(channel), None)
    session.delete(channel)
    session.flush()


def _check_fields(fields: dict[str, Any], config: ServiceConfig) -> None:
    for name in fields:
        if name not in _FIELDS:
            raise InvalidInput(name, "unknown field")
    if "name" in fields:
        fields["name"] = check_name(fields["name"])
    if fields.get("url") is not None:
        fields["url"] = check_url_allowed(fields["url"], config.policy, "url")
    if fields.get("email") is not None:
        fields["email"] = _check_email(fields["email"])


def _check_email(value: Any) -> str:
    email = value.strip() if isinstance(value, str) else ""
    if not email or len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        raise InvalidInput("email", "must be an email address like alerts@example.com")
    return email


def _check_destination(channel: NotificationChannel) -> None:
    """A webhook channel has a URL and no email, an email channel the reverse."""
    if channel.kind == ChannelKind.webhook:
        if not channel.url:
            raise InvalidInput("url", "a webhook channel needs a url")
        if channel.email:
            raise InvalidInput("email", "only applies to email channels")
    else:
        if not channel.email:
            raise InvalidInput("email", "an email channel needs an email address")
        if channel.url:
            raise InvalidInput("url", "only applies to webhook channels")


# --------------------------------------------------------------------------- test alert


@dataclass(frozen=True)
class PreparedTestAlert:
    """A test alert ready to send: where, what, and the keys that sign a webhook."""

    destination: Destination
    outgoing: Outgoing
    signing_secrets: list[str]


def prepare_test_alert(
    session: Session, *, access: Access, channel_id: int, now: datetime
) -> PreparedTestAlert:
    """Read what a test alert needs, then end the read transaction (the send is slow)."""
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    channel = get_channel(session, workspace_id=workspace_id, channel_id=channel_id)
    signing = live_secrets(session, workspace_id, now)
    session.commit()
    message = alert_messages.test_message(workspace_id, channel.name)
    return PreparedTestAlert(
        destination=Destination(kind=channel.kind, url=channel.url, email=channel.email),
        outgoing=Outgoing(
            alert_id=f"test_{secrets.token_hex(8)}",
            event=message.event,
            subject=message.subject,
            text=message.text,
        ),
        signing_secrets=signing,
    )


async def send_test_alert(
    alert: PreparedTestAlert, *, config: ServiceConfig, smtp: Smtp
) -> str | None:
    """Send it once, the way the worker sends alerts (no retries): None, or why it failed."""
    try:
        async with make_client(max_connections=2) as client:
            await send_alert(
                client,
                alert.destination,
                alert.outgoing,
                policy=config.policy,
                smtp=smtp,
                secrets=alert.signing_secrets,
            )
    except AlertSendError as error:
        return str(error)
    return None
