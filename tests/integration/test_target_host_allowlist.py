"""TARGET_HOST_ALLOWLIST at delivery, with real receivers on 127.0.0.1: every hop is checked."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from hookboard.domain.outbound import OutboundRequest
from hookboard.net.attempt import make_client, send_attempt
from hookboard.net.guard import NetPolicy
from hookboard.net.outcome import AttemptOutcome
from hookboard.net.resolve import clear_resolve_cache
from tests.support.receiver import Receiver


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_resolve_cache()


def deliver(url: str, target_hosts: str) -> AttemptOutcome:
    # Loopback receivers need the private rules lifted; the host allowlist still applies.
    policy = NetPolicy.from_strings(True, "", target_hosts)

    async def once() -> AttemptOutcome:
        async with make_client(verify=httpx.create_ssl_context()) as client:
            request = OutboundRequest(url=url, follow_redirects=True)
            return await send_attempt(client, request, policy=policy, extra_headers={})

    return asyncio.run(once())


def redirect_to(location: str):
    return lambda request: (307, {"Location": location}, b"")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_it_refuses_a_redirect_hop_outside_the_allowlist(host: str) -> None:
    with Receiver() as outside:
        with Receiver(responder=redirect_to(f"http://{host}:{outside.port}/x")) as first:
            outcome = deliver(first.url, f"127.0.0.1:{first.port}")
            assert first.request_count == 1
        time.sleep(0.05)
        assert outside.connections == 0
    assert outcome.error_class == "ssrf_blocked"
    assert outcome.error_message == f"{host}:{outside.port}: host not in TARGET_HOST_ALLOWLIST"


def test_it_follows_a_redirect_hop_inside_the_allowlist() -> None:
    with (
        Receiver(body=b"arrived") as inside,
        Receiver(responder=redirect_to(inside.url + "/next")) as first,
    ):
        outcome = deliver(first.url, f"127.0.0.1:{first.port}, 127.0.0.1:{inside.port}")
        inside.wait_for(1)
    assert outcome.ok and outcome.body_excerpt == "arrived"


def test_it_refuses_the_first_hop_before_connecting() -> None:
    with Receiver() as rx:
        outcome = deliver(rx.url, "hooks.example.com")
        time.sleep(0.05)
        assert rx.connections == 0
    assert outcome.error_class == "ssrf_blocked"
    assert "host not in TARGET_HOST_ALLOWLIST" in (outcome.error_message or "")
