"""What an attempt keeps of a response stays within the caps, whatever the receiver sends."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx

from hookboard.domain.limits import MAX_STORED_RESPONSE_HEADER_BYTES
from hookboard.domain.outbound import OutboundRequest
from hookboard.net.attempt import make_client, send_attempt
from hookboard.net.guard import NetPolicy
from hookboard.net.outcome import AttemptOutcome
from tests.support.receiver import Receiver

OPEN = NetPolicy(allow_private=True)
EXCERPT_BYTES = 1000
# 120 headers of ~8 KB each: near aiohttp's own ceiling (128 headers, 8190-byte lines).
HUGE_HEADERS = {f"X-Pad-{index:03}": "h" * 8000 for index in range(120)}


def fetch(url: str, excerpt_bytes: int = EXCERPT_BYTES) -> AttemptOutcome:
    async def once() -> AttemptOutcome:
        async with make_client(verify=httpx.create_ssl_context()) as client:
            return await send_attempt(
                client,
                OutboundRequest(url=url, method="GET"),
                policy=OPEN,
                extra_headers={},
                excerpt_bytes=excerpt_bytes,
            )

    return asyncio.run(once())


def stored_header_bytes(headers: dict[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in headers.items())


def test_it_caps_the_stored_response_headers_at_16_kib() -> None:
    with Receiver(headers=HUGE_HEADERS) as rx:
        outcome = fetch(rx.url)
    assert outcome.ok
    assert stored_header_bytes(outcome.response_headers) <= MAX_STORED_RESPONSE_HEADER_BYTES
    assert len(json.dumps(outcome.response_headers)) < MAX_STORED_RESPONSE_HEADER_BYTES + 1024
    assert outcome.response_headers["x-pad-000"] == "h" * 8000  # kept in order while they fit
    assert "(not stored)" in outcome.response_headers  # and the cut is said, not silent


def test_headers_past_the_cap_still_count_for_retry_after_and_the_excerpt() -> None:
    body = gzip.compress(b"slow down")
    headers = {**HUGE_HEADERS, "Retry-After": "120", "Content-Encoding": "gzip"}
    with Receiver(status=429, headers=headers, body=body) as rx:
        outcome = fetch(rx.url)
    assert (outcome.error_class, outcome.retry_after_seconds) == ("http_4xx", 120.0)
    assert outcome.body_excerpt == "slow down"
    assert outcome.response_headers["retry-after"] == "120"  # small ones fit after a big cut


def test_it_caps_a_decoded_gzip_excerpt_at_the_excerpt_limit() -> None:
    bomb = gzip.compress(b"a" * 1_000_000)
    with Receiver(body=bomb, headers={"Content-Encoding": "gzip"}) as rx:
        outcome = fetch(rx.url)
    assert outcome.ok
    assert outcome.body_excerpt == "a" * EXCERPT_BYTES


def test_it_caps_the_excerpt_in_bytes_when_invalid_utf8_is_replaced() -> None:
    # Each invalid byte becomes U+FFFD, three bytes in UTF-8: the cap is on what is stored.
    with Receiver(body=b"\xff" * 5000) as rx:
        outcome = fetch(rx.url)
    assert len(outcome.body_excerpt.encode()) <= EXCERPT_BYTES
    assert set(outcome.body_excerpt) == {"\ufffd"}
