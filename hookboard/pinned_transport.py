"""An httpx transport that only connects to addresses the SSRF guard checked.

The URL keeps its host name, so connections are pooled per name and TLS is
verified against that name; the address comes from the guard's check of the
same request (a context variable), never from a second DNS lookup. A
connection attempt without a matching pin is refused.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

_pin: ContextVar[tuple[str, str] | None] = ContextVar("hookboard_pinned_address", default=None)

KEEPALIVE_EXPIRY_SECONDS = 5.0


@contextmanager
def pinned(host: str, address: str) -> Iterator[None]:
    """Within this block, connections to `host` go to `address` only."""
    token = _pin.set((_normal(host), address))
    try:
        yield
    finally:
        _pin.reset(token)


def _normal(host: str) -> str:
    return host.strip("[]").lower()


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None):
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        pin = _pin.get()
        if pin is None or pin[0] != _normal(host):
            raise httpcore.ConnectError(f"refusing a connection to unchecked host {host!r}")
        return await self._inner.connect_tcp(
            pin[1],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never a webhook target")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pinned_transport(
    *, max_connections: int, verify: bool | ssl.SSLContext
) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)
    # httpx does not expose httpcore's network_backend, so the pool it built is
    # replaced by an equal one that uses ours (httpx and httpcore are pinned;
    # tests/integration/test_attempt.py fails if this stops working).
    ssl_context = transport._pool._ssl_context
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        network_backend=PinnedNetworkBackend(),
    )
    return transport
