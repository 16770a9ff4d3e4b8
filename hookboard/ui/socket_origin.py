"""Which pages may open the dashboard's websocket: its own origin, and CORS_ORIGINS.

Reflex hands `rx.Config(cors_allowed_origins=...)` to python-engineio as a
list, and engineio reads an empty list as "no CORS handling": with
CORS_ORIGINS empty (the default) any page on any site could open the socket and
drive the dashboard's events. This check replaces it: a browser's `Origin`
must name the host the request was sent to (behind TRUSTED_PROXY_HOPS
proxies, also the forwarded host), or be listed in CORS_ORIGINS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import reflex as rx

from hookboard.settings import get_settings


class SocketOrigins:
    """engineio's `cors_allowed_origins` callable: (origin, environ) -> allowed."""

    def __init__(self, listed: list[str], *, trust_forwarded_host: bool):
        self.listed = frozenset(origin.rstrip("/") for origin in listed)
        self.trust_forwarded_host = trust_forwarded_host

    def __call__(self, origin: str, environ: dict) -> bool:
        if "*" in self.listed or origin.rstrip("/") in self.listed:
            return True
        hosts = {environ.get("HTTP_HOST", "")}
        if self.trust_forwarded_host and (forwarded := environ.get("HTTP_X_FORWARDED_HOST")):
            hosts.add(forwarded.split(",")[0].strip())
        netloc = urlsplit(origin).netloc.lower()
        return bool(netloc) and netloc in {host.lower() for host in hosts if host}


def guard_socket_origin(app: rx.App) -> None:
    # rxconfig.py sets cors_allowed_origins from CORS_ORIGINS (api/middleware/cors.py).
    listed = list(rx.config.get_config().cors_allowed_origins)
    trusted = get_settings().trusted_proxy_hops > 0
    app.sio.eio.cors_allowed_origins = SocketOrigins(listed, trust_forwarded_host=trusted)
