"""The request a run sends: its schedule's own, or its target's with overrides."""

from __future__ import annotations

from dataclasses import dataclass

from hookboard.attempt import OutboundRequest

DEFAULT_METHOD = "POST"


@dataclass(frozen=True)
class RequestFields:
    url: str | None
    method: str | None
    headers: dict[str, str] | None
    body: str | None


def merge_request(
    own: RequestFields,
    target: RequestFields | None,
    *,
    timeout_seconds: float,
    follow_redirects: bool,
) -> OutboundRequest:
    """The schedule's non-empty fields win over the target's, read as the target
    is now; headers merge, the schedule's overriding the target's by name."""
    base = target or RequestFields(None, None, None, None)
    headers = {**(base.headers or {}), **(own.headers or {})}
    return OutboundRequest(
        url=own.url or base.url or "",
        method=(own.method or base.method or DEFAULT_METHOD).upper(),
        headers=headers,
        body=own.body if own.body is not None else base.body,
        timeout_seconds=timeout_seconds,
        follow_redirects=follow_redirects,
    )
