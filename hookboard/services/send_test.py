"""A test delivery: one real, signed request now, through the engine's guard; nothing recorded."""

from __future__ import annotations

import secrets as _random
from datetime import datetime
from typing import Any

from sqlmodel import Session

from hookboard.core.secrets import live_secrets
from hookboard.domain import templating
from hookboard.domain.limits import RANGES
from hookboard.domain.outbound import OutboundRequest
from hookboard.domain.signing import delivery_headers
from hookboard.net.attempt import make_client, send_attempt
from hookboard.net.outcome import AttemptOutcome
from hookboard.services.config import ServiceConfig
from hookboard.services.errors import InvalidInput
from hookboard.services.fields import DEFAULT_METHOD, check_request_fields
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action


def build_test_request(fields: dict[str, Any], *, config: ServiceConfig) -> OutboundRequest:
    """The request a test delivery sends, checked like a schedule's."""
    fields = dict(fields)
    if not fields.get("url"):
        raise InvalidInput("request.url", "a URL is required")
    fields.setdefault("headers", {})
    check_request_fields(fields, config)
    timeout = fields.get("timeout_seconds") or config.default_timeout_seconds
    low, high = RANGES["timeout_seconds"]  # a schedule's bound
    if not low <= timeout <= high:
        raise InvalidInput("timeout_seconds", f"must be between {low} and {high}")
    # Template variables get sample values (run_id 1, attempt 1, ...).
    sample = templating.SAMPLE_VALUES
    return OutboundRequest(
        url=templating.render(fields["url"], sample, in_url=True),
        method=fields.get("method") or DEFAULT_METHOD,
        headers={k: templating.render(v, sample) for k, v in (fields.get("headers") or {}).items()},
        body=None if fields.get("body") is None else templating.render(fields["body"], sample),
        timeout_seconds=float(timeout),
        follow_redirects=bool(fields.get("follow_redirects")),
    )


def prepare_test_delivery(
    session: Session,
    fields: dict[str, Any],
    *,
    access: Access,
    config: ServiceConfig,
    now: datetime,
) -> tuple[OutboundRequest, list[str]]:
    """The checked test request and the owner's live signing secrets. Ends the read
    transaction, so that no connection is held through the (slow) request."""
    permissions.check(access, Action.write)
    workspace_id = access.workspace_id
    request = build_test_request(fields, config=config)
    secrets = live_secrets(session, workspace_id, now)
    session.commit()
    return request, secrets


async def send_test_delivery(
    request: OutboundRequest, *, secrets: list[str], config: ServiceConfig
) -> AttemptOutcome:
    """One real attempt now, through the engine's guard and client, signed like a run
    (webhook-id `test_<random>`). Nothing is recorded."""
    message_id = f"test_{_random.token_hex(8)}"
    body = request.body.encode() if request.body is not None else b""
    extra = delivery_headers(secrets, message_id, body)
    async with make_client(max_connections=4) as client:
        return await send_attempt(
            client,
            request,
            policy=config.policy,
            extra_headers=extra,
            excerpt_bytes=config.excerpt_bytes,
        )
