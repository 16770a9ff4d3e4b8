"""Masked secrets sent back in an edit: what GET showed ("***") keeps the stored
secret; a mask with no stored secret behind it is refused, never stored as one."""

from __future__ import annotations

from collections.abc import Callable

from hookboard.core.redaction import (
    MASK,
    is_secret_header,
    is_secret_query_param,
    mask_userinfo,
    redact_url,
    split_url,
)
from hookboard.services.errors import InvalidInput
from hookboard.services.fields import keep_masked_secrets


def unmask_headers(
    headers: dict[str, str], stored: dict[str, str] | None, field: str
) -> dict[str, str]:
    """Masked secret headers take their stored values; one with none is a 422."""
    if not isinstance(headers, dict):
        return headers  # check_headers names the error
    headers = keep_masked_secrets(headers, stored)
    for name, value in headers.items():
        if value == MASK and is_secret_header(name):
            raise InvalidInput(
                field, f"header {name!r} is masked ({MASK}) and has no stored value to keep"
            )
    return headers


def unmask_url(
    url: str | None,
    stored: str | None,
    field: str,
    redact: Callable[[str], str | None] = redact_url,
) -> str | None:
    """The URL with masked parts (as `redact` shows them) taken from the stored one,
    on the same scheme, host and port only: a stored secret never follows an edit
    elsewhere. A mask with nothing to take is a 422."""
    if not isinstance(url, str) or MASK not in url:
        return url
    if stored and url.strip() == redact(stored):
        return stored
    if stored and redact is redact_url:
        url = _restore_url_secrets(url.strip(), stored)
    if MASK in url:
        raise InvalidInput(
            field,
            f"holds the mask {MASK} where a secret was, and no stored secret matches it; "
            "send the real value",
        )
    return url


def _restore_url_secrets(url: str, stored: str) -> str:
    new, old = split_url(url), split_url(stored)
    if new is None or old is None:
        return url
    new_user, new_at, new_host = new.netloc.rpartition("@")
    old_user, old_at, old_host = old.netloc.rpartition("@")
    if (new.scheme.lower(), new_host.lower()) != (old.scheme.lower(), old_host.lower()):
        return url
    netloc = new.netloc
    if new_at and old_at and new_user == mask_userinfo(old_user):
        netloc = f"{old_user}@{new_host}"
    old_values: dict[str, str] = {}
    for pair in old.query.split("&"):
        name, _, value = pair.partition("=")
        old_values.setdefault(name, value)
    pairs = []
    for pair in new.query.split("&"):
        name, equals, value = pair.partition("=")
        if value == MASK and is_secret_query_param(name) and name in old_values:
            value = old_values[name]
        pairs.append(f"{name}{equals}{value}")
    return new._replace(netloc=netloc, query="&".join(pairs)).geturl()
