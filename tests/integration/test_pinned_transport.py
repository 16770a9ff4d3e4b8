"""Connections go only to the address the guard checked, and pool per host name."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hookboard.domain.outbound import OutboundRequest
from hookboard.net.attempt import make_client, send_attempt
from hookboard.net.guard import NetPolicy
from hookboard.net.resolve import clear_resolve_cache
from tests.support.receiver import Receiver

OPEN = NetPolicy(allow_private=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_resolve_cache()


def test_each_host_name_gets_its_own_connection_to_the_checked_address():
    resolver_calls: list[str] = []

    def resolver(host: str) -> list[str]:
        resolver_calls.append(host)
        return ["127.0.0.1"]

    async def scenario(port: int):
        async with make_client() as client:
            for host in ("a.test", "b.test", "a.test"):
                request = OutboundRequest(url=f"http://{host}:{port}/", timeout_seconds=5)
                outcome = await send_attempt(
                    client, request, policy=OPEN, extra_headers={}, resolver=resolver
                )
                assert outcome.ok, outcome.error_message

    with Receiver() as receiver:
        asyncio.run(scenario(receiver.port))
        first_a, b, second_a = receiver.wait_for(3)
    assert [r.headers["host"] for r in (first_a, b, second_a)] == [
        f"a.test:{receiver.port}",
        f"b.test:{receiver.port}",
        f"a.test:{receiver.port}",
    ]
    assert first_a.connection_id == second_a.connection_id  # kept alive, per name
    assert b.connection_id != first_a.connection_id  # never shared across names
    assert set(resolver_calls) == {"a.test", "b.test"}


def test_the_client_refuses_a_connection_the_guard_did_not_check():
    async def scenario(url: str):
        async with make_client() as client:
            with pytest.raises(httpx.ConnectError, match="unchecked host"):
                await client.get(url)

    with Receiver() as receiver:
        asyncio.run(scenario(receiver.url))
        assert receiver.connections == 0


def test_a_rebinding_name_is_resolved_once_and_connected_as_checked():
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])

    def rebinding_resolver(_host: str) -> list[str]:
        return next(answers)  # a second lookup would get a different address

    policy = NetPolicy.from_strings(False, "127.0.0.1/32")

    async def scenario(port: int):
        async with make_client() as client:
            request = OutboundRequest(url=f"http://rebind.test:{port}/", timeout_seconds=5)
            return await send_attempt(
                client, request, policy=policy, extra_headers={}, resolver=rebinding_resolver
            )

    with Receiver() as receiver:
        outcome = asyncio.run(scenario(receiver.port))
        assert outcome.ok, outcome.error_message
        assert len(receiver.wait_for(1)) == 1
