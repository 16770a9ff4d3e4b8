"""The request a run sends: its schedule's own, or its target's with overrides,
with template variables filled in for the attempt."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hookboard.domain.templating import TemplateValues, has_template, render

DEFAULT_METHOD = "POST"


@dataclass(frozen=True)
class OutboundRequest:
    """One HTTP request as an attempt sends it (``net.attempt.send_attempt``)."""

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    timeout_seconds: float = 30.0
    follow_redirects: bool = False


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


def render_request(request: OutboundRequest, values: TemplateValues) -> OutboundRequest:
    """The request with `{{run_id}}`-style variables filled in (URL-encoded in the URL)."""
    templated = (
        has_template(request.url)
        or has_template(request.body)
        or any(has_template(value) for value in request.headers.values())
    )
    if not templated:
        return request  # the common case costs three substring checks
    strings = values.as_strings()
    return replace(
        request,
        url=render(request.url, strings, in_url=True),
        headers={name: render(value, strings) for name, value in request.headers.items()},
        body=None if request.body is None else render(request.body, strings),
    )
