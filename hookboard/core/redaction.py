"""Mask secrets in headers and URLs before they are stored or shown.

One rule per kind of secret, applied once per output: secret-looking headers
(`is_secret_header`), a URL's userinfo and secret-looking query values
(`is_secret_query_param`), and a notification channel's whole webhook path
(Slack's, Discord's and Teams' URLs are bearer secrets). An edit that sends a
mask back keeps the stored value (services/masking.py).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_plus, urlsplit

MASK = "***"
# Header names that carry credentials: Authorization, Cookie, X-Api-Key,
# X-Auth-Token, X-Hub-Secret, Proxy-Authorization, ...
SECRET_HEADER = re.compile(r"auth|cookie|token|secret|passw|api[-_]?key|signature|session", re.I)
# Query parameter names that carry credentials: the header words, plus the short
# names services use (?key= Google, ?code= Azure Functions, ?sig= Azure SAS).
SECRET_QUERY_PARAM = re.compile(
    rf"{SECRET_HEADER.pattern}|credential|^(key|code|sig|pwd|pass|access[-_]?key)$", re.I
)


def is_secret_header(name: str) -> bool:
    return bool(SECRET_HEADER.search(name)) and name.lower() != "webhook-signature"


def is_secret_query_param(name: str) -> bool:
    return bool(SECRET_QUERY_PARAM.search(unquote_plus(name)))


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy with the values of secret-looking headers masked.

    `webhook-signature` stays visible: it is an HMAC, not a secret, and users
    need it to debug verification.
    """
    return {name: MASK if is_secret_header(name) else value for name, value in headers.items()}


def split_url(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    return parts


def mask_userinfo(userinfo: str) -> str:
    """ "user:pass" -> "user:***"; a lone "token" -> "***"."""
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}" if colon else MASK


def mask_query(query: str) -> str:
    """Secret-looking parameters' values masked; the rest left byte for byte."""
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and is_secret_query_param(name):
            value = MASK
        pairs.append(f"{name}{equals}{value}")
    return "&".join(pairs)


def redact_url(url: str | None) -> str | None:
    """The URL with its userinfo password (or lone token) and secret query values
    masked: `https://u:***@h/p?api_key=***&page=2`. Unparseable: the mask alone."""
    if not url:
        return url
    parts = split_url(url)
    if parts is None:
        return MASK
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = f"{mask_userinfo(userinfo)}@{hostport}" if at else parts.netloc
    return parts._replace(netloc=netloc, query=mask_query(parts.query)).geturl()


def redact_channel_url(url: str | None) -> str | None:
    """A channel webhook shows its scheme and host only: `https://hooks.slack.com/***`."""
    if not url:
        return url
    parts = split_url(url)
    if parts is None:
        return MASK
    hostport = parts.netloc.rpartition("@")[2]
    if parts.path in ("", "/") and not parts.query and hostport == parts.netloc:
        return url
    return f"{parts.scheme}://{hostport}/{MASK}"
