"""What one attempt came to: the ``AttemptOutcome`` type, and classifying a
response or an error into one (its ``error_class`` is one of ``ERROR_CLASSES``).
"""

from __future__ import annotations

import ssl
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from hookboard.domain.limits import MAX_STORED_RESPONSE_HEADER_BYTES
from hookboard.net.guard import BlockedAddressError
from hookboard.net.resolve import ResolveError

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

_RETRYABLE_CLASSES = frozenset({"timeout", "connect", "dns", "http_5xx"})
_RETRYABLE_STATUSES = frozenset({408, 429})


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


# --- progress and classification ----------------------------------------------------------------


class Progress:
    """What is known so far about one attempt; turned into an AttemptOutcome at the end."""

    __slots__ = (
        "body",
        "excerpt_bytes",
        "headers",
        "phase",
        "redirect_note",
        "started",
        "started_at",
        "status",
    )

    def __init__(self, excerpt_bytes: int) -> None:
        self.excerpt_bytes = excerpt_bytes
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
            response_headers=_capped_headers(self.headers),
            body_excerpt=_decode_excerpt(self.body, self.headers, self.excerpt_bytes),
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


class InvalidRedirect(Exception):
    pass


_NETWORK_ERRORS = (httpx.TransportError, TimeoutError, OSError)


def _classify_exception(exc: Exception) -> tuple[str, str]:
    match exc:
        case BlockedAddressError():
            return "ssrf_blocked", str(exc)
        case ResolveError():
            return "dns", str(exc)
        case InvalidRedirect():
            return "invalid_response", str(exc)
        case ValueError() | httpx.InvalidURL():
            return "ssrf_blocked", f"URL not allowed: {exc}"
        case httpx.TimeoutException():
            return "timeout", _describe(exc)
        case httpx.ConnectError():
            return ("tls" if caused_by_tls(exc) else "connect"), _describe(exc)
        case httpx.ProtocolError() | httpx.DecodingError():
            return "invalid_response", _describe(exc)
        case httpx.TransportError():  # read/write resets mid-exchange: a network failure
            return "connect", _describe(exc)
        case ssl.SSLError():
            return "tls", _describe(exc)
        case OSError():
            return "connect", _describe(exc)
    raise exc


def caused_by_tls(exc: BaseException) -> bool:
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


def _capped_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers as stored: in order while they fit MAX_STORED_RESPONSE_HEADER_BYTES (a big
    one is skipped, smaller ones after it still fit), and a note of what was left out.
    Retry-After and Content-Encoding are read from the full set before this."""
    budget = MAX_STORED_RESPONSE_HEADER_BYTES - _OMITTED_NOTE_BYTES
    kept: dict[str, str] = {}
    omitted = 0
    for name, value in headers.items():
        size = len(name.encode()) + len(value.encode())
        if size > budget:
            omitted += 1
            continue
        kept[name] = value
        budget -= size
    if omitted:
        # Not a valid header name (parentheses), so it can never hide a real header.
        kept[_OMITTED_NOTE] = f"{omitted} headers over the {_CAP_TEXT} cap"
    return kept


_OMITTED_NOTE = "(not stored)"
_OMITTED_NOTE_BYTES = 64  # room kept for that note
_CAP_TEXT = f"{MAX_STORED_RESPONSE_HEADER_BYTES // 1024} KiB"


def _decode_excerpt(raw: bytes, headers: dict[str, str], limit: int) -> str:
    """The excerpt as stored: decompressed and decoded, at most ``limit`` UTF-8 bytes."""
    if limit <= 0:
        return ""
    encoding = headers.get("content-encoding", "").strip().lower()
    if raw and encoding in ("gzip", "x-gzip", "deflate"):
        raw = _inflate_prefix(raw, limit)
    text = raw[:limit].decode("utf-8", errors="replace")
    # A replaced byte grows to three (U+FFFD); cut at a character boundary, on bytes.
    return text.encode()[:limit].decode("utf-8", errors="ignore")


def _inflate_prefix(raw: bytes, limit: int) -> bytes:
    # Bounded output (no decompression bombs) from a possibly truncated stream.
    for wbits in (47, -15):  # gzip or zlib header, then raw deflate
        try:
            return zlib.decompressobj(wbits).decompress(raw, limit)
        except zlib.error:
            continue
    return raw
