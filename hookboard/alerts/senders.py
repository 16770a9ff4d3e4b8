"""Send one alert: a Slack-compatible webhook (through the SSRF guard) or an email.

Both raise `AlertSendError` with a one-line reason on failure; the outbox
decides about retries. Used by the worker's alert runtime and by the API's
"send a test alert".
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from hookboard.alerts.messages import describe_error
from hookboard.domain.outbound import OutboundRequest
from hookboard.domain.signing import delivery_headers
from hookboard.net.attempt import send_attempt
from hookboard.net.guard import NetPolicy
from hookboard.settings import Settings

WEBHOOK_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 30.0


class AlertSendError(Exception):
    pass


@dataclass(frozen=True)
class Smtp:
    host: str = ""
    port: int = 587
    username: str = ""
    password: str = ""
    sender: str = "hookboard@localhost"
    tls: str = "starttls"  # starttls, ssl or none

    @classmethod
    def from_settings(cls, settings: Settings) -> Smtp:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            tls=settings.smtp_tls,
        )

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Outgoing:
    """An alert as a channel sends it."""

    alert_id: str  # "alert_<id>" or "test_<random>": the webhook-id
    event: str
    subject: str
    text: str
    schedule_id: int | None = None
    run_id: int | None = None
    details: dict[str, Any] | None = None


def slack_payload(alert: Outgoing) -> dict[str, Any]:
    """Slack's incoming-webhook shape (`text`, `blocks`), plus the facts under `hookboard`."""
    text = _slack_escape(alert.text)
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": alert.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        ],
        "hookboard": {
            "id": alert.alert_id,
            "event": alert.event,
            "schedule_id": alert.schedule_id,
            "run_id": alert.run_id,
            "details": alert.details or {},
        },
    }


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup (links, mentions) in mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def send_webhook(
    client: httpx.AsyncClient,
    url: str,
    alert: Outgoing,
    *,
    policy: NetPolicy,
    secrets: list[str],
) -> None:
    """POST the payload, signed like a delivery (Standard Webhooks) when secrets are given."""
    body = json.dumps(slack_payload(alert), ensure_ascii=False)
    request = OutboundRequest(
        url=url,
        method="POST",
        headers={"Content-Type": "application/json"},
        body=body,
        timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
    )
    extra = delivery_headers(secrets, alert.alert_id, body.encode())
    outcome = await send_attempt(client, request, policy=policy, extra_headers=extra)
    if not outcome.ok:
        raise AlertSendError(
            describe_error(outcome.error_class, outcome.status_code, outcome.error_message)
        )


def send_email(smtp: Smtp, to: str, alert: Outgoing) -> None:
    """Blocking (smtplib): call it from a thread."""
    if not smtp.configured:
        raise AlertSendError("email alerts need SMTP_HOST to be set")
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    # A schedule name may hold line breaks; a header must not.
    message["Subject"] = " ".join(f"[Hookboard] {alert.subject}".split())
    message["Message-ID"] = f"<{alert.alert_id}@hookboard>"
    message.set_content(alert.text + "\n")
    try:
        with _connect(smtp) as server:
            if smtp.tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password)
            server.send_message(message)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        raise AlertSendError(f"SMTP: {type(error).__name__}: {error}"[:500]) from None


def _connect(smtp: Smtp) -> smtplib.SMTP:
    # The EHLO name: the kernel's host name, without smtplib's reverse DNS lookup.
    local = socket.gethostname()
    if smtp.tls == "ssl":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(
            smtp.host, smtp.port, local, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    return smtplib.SMTP(smtp.host, smtp.port, local, timeout=SMTP_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Destination:
    kind: str  # webhook or email
    url: str | None = None
    email: str | None = None


async def send_alert(
    client: httpx.AsyncClient,
    destination: Destination,
    alert: Outgoing,
    *,
    policy: NetPolicy,
    smtp: Smtp,
    secrets: list[str],
) -> None:
    """Send through whichever channel kind; email runs in a thread (smtplib blocks)."""
    if destination.kind == "webhook" and destination.url:
        await send_webhook(client, destination.url, alert, policy=policy, secrets=secrets)
    elif destination.kind == "email" and destination.email:
        await asyncio.to_thread(send_email, smtp, destination.email, alert)
    else:
        raise AlertSendError(f"channel of kind {destination.kind!r} has no destination")
