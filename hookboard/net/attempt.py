"""Sending one outbound HTTP attempt: guarded, bounded, and classified (see ``outcome``).

``send_attempt`` never raises for network or HTTP problems; it returns an ``AttemptOutcome``
whose ``error_class`` is one of ``ERROR_CLASSES``. The SSRF guard runs before every hop and the
connection goes to the address that was checked (see ``transport``: the URL keeps its
host name for pooling and TLS, the socket goes to the checked IP), so DNS cannot change between
check and connect.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ssl
from functools import lru_cache

import httpx

from hookboard.core.redaction import is_secret_header
from hookboard.domain.outbound import OutboundRequest
from hookboard.net.guard import ALLOWED_SCHEMES, BlockedAddressError, IPAddress, NetPolicy
from hookboard.net.outcome import AttemptOutcome, InvalidRedirect, Progress, caused_by_tls
from hookboard.net.resolve import Resolver, aresolve_and_check
from hookboard.net.transport import PinnedTransport, pinned

MAX_REDIRECTS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Set by us, never taken from the job's configured headers.
_MANAGED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def make_client(
    *, max_connections: int = 1000, verify: bool | ssl.SSLContext = True
) -> httpx.AsyncClient:
    """An AsyncClient suited to ``send_attempt``; create one per process and reuse it.

    No proxies from the environment (they would bypass the address pinning) and no cookie
    jar (cookies would leak between jobs sharing an IP and grow without bound).
    """
    no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        cookies=no_cookies,
        transport=PinnedTransport(max_connections=max_connections, verify=verify),
    )


async def send_attempt(
    client: httpx.AsyncClient,
    request: OutboundRequest,
    *,
    policy: NetPolicy,
    extra_headers: dict[str, str],
    excerpt_bytes: int = 65536,
    resolver: Resolver | None = None,
) -> AttemptOutcome:
    """Send ``request`` once (following redirects only when asked) and classify the result."""
    progress = Progress(excerpt_bytes)
    try:
        # One deadline for the whole attempt: DNS, connect, every hop and the body excerpt.
        async with asyncio.timeout(request.timeout_seconds):
            await _deliver(
                client, request, policy, extra_headers, excerpt_bytes, resolver, progress
            )
    except Exception as exc:  # classified in failed(); programming errors are re-raised there
        return progress.failed(exc, request.timeout_seconds)
    return progress.finished()


# --- the request itself -------------------------------------------------------------------------


async def _deliver(
    client: httpx.AsyncClient,
    request: OutboundRequest,
    policy: NetPolicy,
    extra_headers: dict[str, str],
    excerpt_bytes: int,
    resolver: Resolver | None,
    progress: Progress,
) -> None:
    url = _parse_url(request.url)
    method = request.method.upper()
    body = request.body.encode() if request.body is not None else None
    headers = _merge_headers(request.headers, extra_headers)
    timeout = _timeout_extension(request.timeout_seconds)
    for _hop in range(MAX_REDIRECTS + 1):
        progress.phase = "resolve"
        addresses = await aresolve_and_check(url.host, _port(url), policy, resolver)
        progress.start()
        progress.phase = "send"
        response = await _send_pinned(client, method, url, addresses, headers, body, timeout)
        try:
            progress.record(response)
            progress.phase = "body"
            progress.body = await _read_excerpt(response, excerpt_bytes)
        finally:
            await response.aclose()
        location = response.headers.get("location")
        if not (request.follow_redirects and response.status_code in _REDIRECT_STATUSES):
            return
        if not location:
            progress.redirect_note = f"redirect ({response.status_code}) without Location"
            return
        next_url = _redirect_target(url, location)
        method, body = _redirected_method(response.status_code, method, body)
        if body is None:
            headers = _without_body_headers(headers)
        if _origin(next_url) != _origin(url):
            headers = _without_credentials(headers)
        url = next_url
    progress.redirect_note = f"more than {MAX_REDIRECTS} redirects"


async def _send_pinned(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    addresses: list[IPAddress],
    headers: dict[str, str],
    body: bytes | None,
    timeout: dict[str, float],
) -> httpx.Response:
    """Send to the checked addresses in order; the next one is tried only if connecting failed."""
    host = url.raw_host.decode("ascii")
    for index, address in enumerate(addresses):
        outgoing = httpx.Request(
            method, url, headers=headers, content=body, extensions={"timeout": timeout}
        )
        try:
            with pinned(host, str(address)):
                return await client.send(outgoing, stream=True, follow_redirects=False)
        except httpx.ConnectError as exc:
            if index == len(addresses) - 1 or caused_by_tls(exc):
                raise
    raise AssertionError("unreachable: resolve_and_check never returns no addresses")


async def _read_excerpt(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` raw bytes of the body; the rest is never read (1 GB bodies are fine)."""
    if limit <= 0:
        return b""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    data = b"".join(chunks)
    return data[:limit] if size > limit else data


@lru_cache(maxsize=4096)
def _parse_url(url: str) -> httpx.URL:
    parsed = httpx.URL(url)
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise ValueError(f"scheme must be http or https, not {parsed.scheme or 'missing'!r}")
    if not parsed.host:
        raise ValueError("URL has no host")
    return parsed


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, _port(url)


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _timeout_extension(seconds: float) -> dict[str, float]:
    return {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}


def _merge_headers(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """``extra`` wins over ``base`` case-insensitively; framing headers are ours to set."""
    merged: dict[str, str] = {}
    names: dict[str, str] = {}
    for source in (base, extra):
        for name, value in source.items():
            lower = name.lower()
            if lower in _MANAGED_HEADERS:
                continue
            previous = names.get(lower)
            if previous is not None:
                del merged[previous]
            names[lower] = name
            merged[name] = value
    if "accept-encoding" not in names:
        merged["Accept-Encoding"] = "identity"  # the excerpt is read raw
    return merged


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise InvalidRedirect(f"invalid redirect Location: {exc}") from None
    if target.scheme not in ALLOWED_SCHEMES or not target.host:
        raise BlockedAddressError(str(target), "not an http(s) URL")
    return target


def _redirected_method(status: int, method: str, body: bytes | None) -> tuple[str, bytes | None]:
    # 307/308 repeat the request as is; 303 (and, by convention, 301/302 for POST) become GET.
    if status in (307, 308) or method == "HEAD":
        return method, body
    if status == 303 or method == "POST":
        return "GET", None
    return method, body


def _without_credentials(headers: dict[str, str]) -> dict[str, str]:
    """Not forwarded when a redirect leaves the original origin: Authorization and Cookie (as
    browsers and httpx do) and every custom header the secret rule masks (X-Api-Key, ...)."""
    return {k: v for k, v in headers.items() if not is_secret_header(k)}


def _without_body_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "content-type"}
