"""Checks of the request fields a schedule, a target and a test delivery share:
text, URL, method, headers, body and their templates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from hookboard.core.redaction import MASK, is_secret_header
from hookboard.core.whitespace import PYTHON_SPACE
from hookboard.domain import templating
from hookboard.domain.limits import HTTP_METHODS, MAX_NAME_CHARS, MAX_URL_CHARS, RANGES
from hookboard.net.guard import BlockedAddressError, NetPolicy, check_url
from hookboard.services.config import ServiceConfig
from hookboard.services.errors import InvalidInput

DEFAULT_METHOD = "POST"


MAX_HEADERS = 100


MAX_HEADER_NAME_CHARS = 256


MAX_HEADER_VALUE_CHARS = 8192


# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


# httpx sends header values as ASCII; tab and printable characters only.
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")


# Storage column -> the API field that holds it (error messages name the API field).
FIELD_PATHS = {
    "url": "request.url",
    "method": "request.method",
    "headers": "request.headers",
    "body": "request.body",
    "max_attempts": "retry.max_attempts",
    "backoff": "retry.backoff",
    "base_delay_seconds": "retry.base_delay_seconds",
    "max_delay_seconds": "retry.max_delay_seconds",
    "jitter": "retry.jitter",
    "anchor": "starts_at",
}


def api_field(column: str) -> str:
    return FIELD_PATHS.get(column, column)


def check_text(value: str, field: str) -> str:
    """Text the databases can store: no NUL (PostgreSQL refuses it), valid Unicode."""
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, "must be valid Unicode text") from None
    return value


def ranged(kind: type, field: str) -> Any:
    """`kind` within RANGES[field], for the pydantic models of the API and the import document."""
    low, high = RANGES[field]
    return Annotated[kind, Field(ge=low, le=high)]


# What a name may not hold, as a regex class (the API schema states it too):
# controls and line/paragraph separators break a name's line in lists and logs;
# bidi marks, embeddings, overrides and isolates disguise it ("\u202egnp.exe"
# reads as "exe.png").
NAME_UNSAFE = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_NAME_UNSAFE = re.compile(f"[{NAME_UNSAFE}]")
# check_name's rule for schemas: surrounding whitespace is stripped, then one
# visible character at least, and nothing unsafe.
NAME_SCHEMA_PATTERN = (
    rf"^[{PYTHON_SPACE}]*[^{NAME_UNSAFE}]*[^{NAME_UNSAFE}{PYTHON_SPACE}]"
    rf"[^{NAME_UNSAFE}]*[{PYTHON_SPACE}]*$"
)


def check_name(name: Any, field: str = "name", *, max_chars: int = MAX_NAME_CHARS) -> str:
    """A schedule's, target's, channel's or API key's name: non-blank text,
    stripped, bounded, without control or bidi characters."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(field, "a name is required")
    name = check_text(name.strip(), field)
    if len(name) > max_chars:
        raise InvalidInput(field, f"must be at most {max_chars} characters")
    if _NAME_UNSAFE.search(name):
        raise InvalidInput(field, "must not contain control or bidirectional-override characters")
    return name


def check_url_allowed(url: str, policy: NetPolicy, field: str = "request.url") -> str:
    """http/https only, and no IP literal the delivery guard would refuse."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(field, "a URL is required")
    url = url.strip()
    check_text(url, field)
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(field, f"must be at most {MAX_URL_CHARS} characters")
    try:
        check_url(url, policy)
    except BlockedAddressError as error:
        raise InvalidInput(field, f"not allowed: {error}") from None
    except ValueError as error:
        raise InvalidInput(field, str(error)) from None
    return url


def check_method(method: str, field: str = "request.method") -> str:
    normalised = method.strip().upper() if isinstance(method, str) else ""
    if normalised not in HTTP_METHODS:
        raise InvalidInput(field, f"must be one of {', '.join(HTTP_METHODS)}")
    return normalised


def check_headers(headers: dict[str, str], field: str = "request.headers") -> dict[str, str]:
    """Names are HTTP tokens; values printable ASCII, never CR or LF (header injection)."""
    if not isinstance(headers, dict):
        raise InvalidInput(field, "must be an object of header names to values")
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(field, f"at most {MAX_HEADERS} headers")
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidInput(field, "header names and values must be strings")
        shown = name if len(name) <= 40 and name.isprintable() else f"{name[:40]!r}..."
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise InvalidInput(field, f"header {shown!r}: must not contain CR or LF")
        if not name or len(name) > MAX_HEADER_NAME_CHARS or not _HEADER_NAME.match(name):
            raise InvalidInput(field, f"header name {shown!r} is not a valid HTTP header name")
        if len(value) > MAX_HEADER_VALUE_CHARS:
            raise InvalidInput(field, f"header {shown!r}: value longer than 8192 characters")
        if not _HEADER_VALUE.match(value):
            raise InvalidInput(field, f"header {shown!r}: value must be printable ASCII")
        if name.lower() in seen:
            raise InvalidInput(field, f"header {shown!r} is given twice")
        seen.add(name.lower())
    return dict(headers)


def check_body(body: str, max_bytes: int, field: str = "request.body") -> str:
    check_text(body, field)
    size = len(body.encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(field, f"is {size} bytes; at most {max_bytes} bytes are allowed")
    return body


def keep_masked_secrets(new: dict[str, str], old: dict[str, str] | None) -> dict[str, str]:
    """A masked value sent back ("***", as GET shows it) keeps the stored secret."""
    old_by_name = {name.lower(): value for name, value in (old or {}).items()}
    kept = {}
    for name, value in new.items():
        if value == MASK and is_secret_header(name) and name.lower() in old_by_name:
            value = old_by_name[name.lower()]
        kept[name] = value
    return kept


def check_request_fields(
    fields: dict[str, Any], config: ServiceConfig, *, flat: bool = False
) -> None:
    """Normalise and check url/method/headers/body present in `fields` (in place)."""

    def path(column: str) -> str:
        return column if flat else api_field(column)

    if fields.get("url") is not None:
        fields["url"] = check_templated_url(fields["url"], config.policy, path("url"))
    if fields.get("method") is not None:
        fields["method"] = check_method(fields["method"], path("method"))
    if "headers" in fields:
        fields["headers"] = check_headers(fields["headers"] or {}, path("headers"))
        for value in fields["headers"].values():
            _check_template(value, path("headers"))
    if fields.get("body") is not None:
        fields["body"] = check_body(fields["body"], config.max_body_bytes, path("body"))
        _check_template(fields["body"], path("body"))


def _check_template(text: str, field: str) -> None:
    try:
        templating.check_template(text)
    except templating.TemplateError as error:
        raise InvalidInput(field, str(error)) from None


def check_templated_url(url: str, policy: NetPolicy, field: str = "request.url") -> str:
    """A URL that may hold template variables: checked as it will be sent (samples filled in);
    the scheme and host may not be templated."""
    if not isinstance(url, str) or not templating.has_template(url):
        return check_url_allowed(url, policy, field)
    url = url.strip()
    try:
        sample = templating.check_url_template(url)
    except templating.TemplateError as error:
        raise InvalidInput(field, str(error)) from None
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(field, f"must be at most {MAX_URL_CHARS} characters")
    check_url_allowed(sample, policy, field)
    return url


def utc_instant(value: datetime) -> datetime:
    """An aware date-time as UTC, within the years every database stores (a ValueError,
    for pydantic, otherwise): the API and the import document hold instants to it."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None
    if not 1900 <= value.year <= 9000:
        raise ValueError("date-time must be between the years 1900 and 9000")
    return value
