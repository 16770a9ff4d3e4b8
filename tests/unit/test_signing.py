"""Signatures are verified with the reference ``standardwebhooks`` package, not our own code."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hookboard.domain.signing import (
    generate_secret,
    sign,
    signature_header,
    webhook_headers,
)

BODY = json.dumps({"event": "tick", "n": 1}).encode()


def _headers(secrets: list[str], body: bytes = BODY, msg_id: str = "msg_1") -> dict[str, str]:
    return webhook_headers(secrets, msg_id, int(time.time()), body, "Hookboard/0.1")


def test_generated_secrets_are_whsec_base64_of_24_to_32_bytes() -> None:
    first, second = generate_secret(), generate_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert 24 <= len(base64.b64decode(first.removeprefix("whsec_"))) <= 32


def test_headers_verify_with_standardwebhooks() -> None:
    secret = generate_secret()
    headers = _headers([secret])
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "User-Agent"}
    assert headers["User-Agent"] == "Hookboard/0.1"
    assert Webhook(secret).verify(BODY, headers) == {"event": "tick", "n": 1}


def test_signature_matches_the_reference_implementation() -> None:
    secret = generate_secret()
    timestamp = int(time.time())
    ours = sign(secret, "msg_2", timestamp, BODY)
    reference = Webhook(secret).sign("msg_2", datetime.fromtimestamp(timestamp, UTC), BODY.decode())
    assert ours == reference


def test_each_rotated_secret_verifies_the_header_alone() -> None:
    old, new = generate_secret(), generate_secret()
    headers = _headers([old, new])
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_tampered_body_fails_verification() -> None:
    secret = generate_secret()
    headers = _headers([secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"1", b"2"), headers)


def test_tampered_id_fails_verification() -> None:
    secret = generate_secret()
    headers = {**_headers([secret]), "webhook-id": "msg_other"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_secret_without_prefix_and_bad_secrets() -> None:
    secret = generate_secret()
    unprefixed = secret.removeprefix("whsec_")
    assert sign(unprefixed, "m", 1, b"x") == sign(secret, "m", 1, b"x")
    with pytest.raises(ValueError):
        sign("whsec_***", "m", 1, b"x")
    with pytest.raises(ValueError):
        signature_header([], "m", 1, b"x")
