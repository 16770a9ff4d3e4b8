"""Mask secrets in headers before they are stored or shown."""

from __future__ import annotations

import re

MASK = "***"
# Header names that carry credentials: Authorization, Cookie, X-Api-Key,
# X-Auth-Token, X-Hub-Secret, Proxy-Authorization, ...
SECRET_HEADER = re.compile(r"auth|cookie|token|secret|passw|api[-_]?key|signature|session", re.I)


def is_secret_header(name: str) -> bool:
    return bool(SECRET_HEADER.search(name)) and name.lower() != "webhook-signature"


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy with the values of secret-looking headers masked.

    `webhook-signature` stays visible: it is an HMAC, not a secret, and users
    need it to debug verification.
    """
    return {name: MASK if is_secret_header(name) else value for name, value in headers.items()}
