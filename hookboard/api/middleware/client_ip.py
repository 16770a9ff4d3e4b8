"""The client's address behind TRUSTED_PROXY_HOPS reverse proxies.

Behind nginx or a load balancer every request comes from the proxy, so the
per-IP limits (failed logins, sign-ups) would count all clients as one. With
N trusted hops, the client is the N-th address from the right of
X-Forwarded-For: each trusted proxy appends the address it received from, so
what a client writes itself further left is ignored. The dashboard follows
the same rule (Reflex's `trusted_proxy_hops`, set in rxconfig.py). With 0
(the default) the header is ignored: without a proxy a client could name any
address there.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


def forwarded_client(header: str, hops: int) -> str | None:
    addresses = [address.strip() for address in header.split(",") if address.strip()]
    return addresses[-hops] if hops and len(addresses) >= hops else None


class TrustedProxyClient:
    def __init__(self, app: ASGIApp, *, hops: int):
        self.app = app
        self.hops = hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hops and scope["type"] == "http":
            header = b",".join(
                value for name, value in scope.get("headers", []) if name == b"x-forwarded-for"
            )
            client = forwarded_client(header.decode("latin-1"), self.hops)
            if client is not None:
                port = (scope.get("client") or ("", 0))[1]
                scope = {**scope, "client": (client, port)}
        await self.app(scope, receive, send)
