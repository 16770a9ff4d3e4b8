"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The signed content is ``f"{msg_id}.{timestamp}.".encode() + body`` and the key is the base64
part of a ``whsec_`` secret. Several secrets may sign at once while a secret is being rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from functools import lru_cache

from hookboard import __version__

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# What every outbound request says it is: deliveries, test deliveries and alerts.
USER_AGENT = f"Hookboard/{__version__}"


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode("ascii")


@lru_cache(maxsize=1024)
def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (cached: decoding once per secret, not per message)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("signing secret is not valid base64 after 'whsec_'") from None
    if not key:
        raise ValueError("signing secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``"{msg_id}.{timestamp}." + body``."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one space-separated signature per active secret."""
    if not secrets:
        raise ValueError("at least one signing secret is required")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def webhook_headers(
    secrets: list[str], msg_id: str, timestamp: int, body: bytes, user_agent: str
) -> dict[str, str]:
    """All headers a Standard Webhooks receiver needs to verify a delivery."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "User-Agent": user_agent,
    }


def delivery_headers(
    secrets: list[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The headers every outbound webhook carries: signed when the owner has live
    secrets, otherwise just the User-Agent and the `webhook-id` to deduplicate on."""
    if not secrets:
        return {"User-Agent": USER_AGENT, "webhook-id": msg_id}
    timestamp = int(time.time()) if timestamp is None else timestamp
    return webhook_headers(secrets, msg_id, timestamp, body, USER_AGENT)
