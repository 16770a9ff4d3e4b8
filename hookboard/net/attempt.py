"""One outbound HTTP attempt: guarded, bounded, and classified.

``send_attempt`` never raises for network or HTTP problems; it returns an ``AttemptOutcome``
whose ``error_class`` is one of ``ERROR_CLASSES``. The SSRF guard runs before every hop and the
connection goes to the address that was checked (see ``pinned_transport``: the URL keeps its
host name for pooling and TLS, the socket goes to the checked IP), so DNS cannot change between
check and connect.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ssl
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

import httpx

from hookboard.net.guard import (
    ALLOWED_SCHEMES,
    BlockedAddressError,
    IPAddress,
    NetPolicy,
    ResolveError,
    Resolver,
    aresolve_and_check,
)
from hookboard.net.transport import PinnedTransport, pinned

ERROR_CLASSES = (
    "success",
    "http_4xx",
    "http_5xx",
    "timeout",
    "dns",
    "connect",
    "tls",
    "ssrf_blocked",
    "invalid_response",
)
MAX_REDIRECTS = 5

_RETRYABLE_CLASSES = frozenset({"timeout", "connect", "dns", "http_5xx"})
_RETRYABLE_STATUSES = frozenset({408, 429})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Set by us, never taken from the job's configured headers.
_MANAGED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# Not forwarded when a redirect leaves the original origin (same rule as browsers and httpx).
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class OutboundRequest:
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    timeout_seconds: float = 30.0
    follow_redirects: bool = False


@dataclass
class AttemptOutcome:
    started_at: datetime  # aware UTC, when the request started (after the guard)
    latency_ms: float
    status_code: int | None
    response_headers: dict[str, str]
    body_excerpt: str
    error_class: str  # one of ERROR_CLASSES
    error_message: str | None
    retry_after_seconds: float | None

    @property
    def ok(self) -> bool:
        return self.error_class == "success"

    @property
    def retryable(self) -> bool:
        return self.error_class in _RETRYABLE_CLASSES or self.status_code in _RETRYABLE_STATUSES


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
    progress = _Progress()
    try:
        # One deadline for the whole attempt: DNS, connect, every hop and the body excerpt.
        async with asyncio.timeout(request.timeout_seconds):
            await _deliver(
                client, request, policy, extra_headers, excerpt_bytes, resolver, progress
            )
    except Exception as exc:  # classified in failed(); programming errors are re-raised there
        return progress.failed(exc, request.timeout_seconds)
    return progress.finished()


# --- progress and classification ----------------------------------------------------------------


class _Progress:
    """What is known so far about one attempt; turned into an AttemptOutcome at the end."""

    __slots__ = ("body", "headers", "phase", "redirect_note", "started", "started_at", "status")

    def __init__(self) -> None:
        self.phase = "resolve"  # resolve -> send -> body
        self.started_at: datetime | None = None
        self.started = 0.0
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""
        self.redirect_note: str | None = None

    def start(self) -> None:
        if self.started_at is None:
            self.started_at = datetime.now(UTC)
            self.started = time.perf_counter()

    def record(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers.items())
        self.body = b""

    def finished(self, message: str | None = None) -> AttemptOutcome:
        error_class, status_message = _classify_status(self.status, self.redirect_note)
        return self._outcome(error_class, status_message or message)

    def failed(self, exc: Exception, timeout_seconds: float) -> AttemptOutcome:
        if self.phase == "body" and isinstance(exc, _NETWORK_ERRORS):
            # The receiver already answered; a truncated excerpt does not change its verdict.
            return self.finished(f"response body incomplete: {_describe(exc)}")
        if self.phase == "resolve" and isinstance(exc, TimeoutError):
            return self._outcome("dns", f"DNS resolution timed out after {timeout_seconds:g}s")
        if isinstance(exc, TimeoutError):
            return self._outcome("timeout", f"no complete response within {timeout_seconds:g}s")
        error_class, message = _classify_exception(exc)
        return self._outcome(error_class, message)

    def _outcome(self, error_class: str, message: str | None) -> AttemptOutcome:
        now = time.perf_counter()
        return AttemptOutcome(
            started_at=self.started_at or datetime.now(UTC),
            latency_ms=(now - self.started) * 1000 if self.started_at else 0.0,
            status_code=self.status,
            response_headers=self.headers,
            body_excerpt=_decode_excerpt(self.body, self.headers),
            error_class=error_class,
            error_message=message,
            retry_after_seconds=_parse_retry_after(self.headers.get("retry-after")),
        )


def _classify_status(status: int | None, redirect_note: str | None) -> tuple[str, str | None]:
    if status is None:
        return "invalid_response", "no response"
    if 200 <= status < 300:
        return "success", None
    if 300 <= status < 400:
        return "invalid_response", redirect_note or f"redirect not followed ({status})"
    if 400 <= status < 500:
        return "http_4xx", f"HTTP {status}"
    if 500 <= status < 600:
        return "http_5xx", f"HTTP {status}"
    return "invalid_response", f"unexpected status {status}"


class _InvalidRedirect(Exception):
    pass


_NETWORK_ERRORS = (httpx.TransportError, TimeoutError, OSError)


def _classify_exception(exc: Exception) -> tuple[str, str]:
    match exc:
        case BlockedAddressError():
            return "ssrf_blocked", str(exc)
        case ResolveError():
            return "dns", str(exc)
        case _InvalidRedirect():
            return "invalid_response", str(exc)
        case ValueError() | httpx.InvalidURL():
            return "ssrf_blocked", f"URL not allowed: {exc}"
        case httpx.TimeoutException():
            return "timeout", _describe(exc)
        case httpx.ConnectError():
            return ("tls" if _caused_by_tls(exc) else "connect"), _describe(exc)
        case httpx.ProtocolError() | httpx.DecodingError():
            return "invalid_response", _describe(exc)
        case httpx.TransportError():  # read/write resets mid-exchange: a network failure
            return "connect", _describe(exc)
        case ssl.SSLError():
            return "tls", _describe(exc)
        case OSError():
            return "connect", _describe(exc)
    raise exc


def _caused_by_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # bounded walk of the cause chain
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _decode_excerpt(raw: bytes, headers: dict[str, str]) -> str:
    encoding = headers.get("content-encoding", "").strip().lower()
    if raw and encoding in ("gzip", "x-gzip", "deflate"):
        raw = _inflate_prefix(raw, len(raw) * 4 + 65536)
    return raw.decode("utf-8", errors="replace")


def _inflate_prefix(raw: bytes, limit: int) -> bytes:
    # Bounded output (no decompression bombs) from a possibly truncated stream.
    for wbits in (47, -15):  # gzip or zlib header, then raw deflate
        try:
            return zlib.decompressobj(wbits).decompress(raw, limit)
        except zlib.error:
            continue
    return raw


# --- the request itself -------------------------------------------------------------------------


async def _deliver(
    client: httpx.AsyncClient,
    request: OutboundRequest,
    policy: NetPolicy,
    extra_headers: dict[str, str],
    excerpt_bytes: int,
    resolver: Resolver | None,
    progress: _Progress,
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
            headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
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
            if index == len(addresses) - 1 or _caused_by_tls(exc):
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
        raise _InvalidRedirect(f"invalid redirect Location: {exc}") from None
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


def _without_body_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "content-type"}
