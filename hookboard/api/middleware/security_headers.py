"""Security headers on every HTTP answer of the web process.

Reflex mounts the dashboard (its built pages), /_event and /_upload inside
the API app (api_transformer), so this one ASGI layer in create_api() covers
pages, API and uploads alike:

- Content-Security-Policy: scripts and everything else from this origin only,
  plus the inline scripts of the built pages by their SHA-256 hashes (read
  from the built HTML, again whenever the build changes); `frame-ancestors
  'none'` forbids framing. A response that sets its own policy (/docs) keeps it.
- X-Content-Type-Options: nosniff and Referrer-Policy: same-origin.
- Strict-Transport-Security only when PUBLIC_URL is https: over plain http a
  browser ignores it, and sending it from a test or LAN instance would pin
  a name to https by mistake.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hookboard.api")

CSP_HEADER = "Content-Security-Policy"
HSTS_VALUE = "max-age=31536000; includeSubDomains"
# The built pages' inline <script> blocks (React Router's hydration data and module loader).
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def script_hash(source: bytes) -> str:
    """A CSP source that allows exactly this inline script."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(source).digest()).decode()}'"


def content_security_policy(script_sources: Iterable[str] = (), *, allow_eval: bool) -> str:
    """A page's policy; `script_sources` adds inline scripts (hashes) to 'self'."""
    eval_source = ["'unsafe-eval'"] if allow_eval else []
    directives = {
        "default-src": ["'self'"],
        # 'unsafe-eval': Reflex runs what server events send (rx.toast, rx.set_clipboard)
        # through eval() in its state.js; there is no way around it in Reflex 0.10.
        "script-src": ["'self'", *eval_source, *script_sources],
        # Radix and emotion set styles in <style> elements and style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        # data: for inline SVG images (icons, the two-factor QR code).
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        # 'self' covers the same-origin websocket (ws:/wss:) of /_event.
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def inline_script_hashes(static_dir: Path) -> list[str]:
    """The hash of every inline script in the built pages under `static_dir`, sorted."""
    hashes = set()
    for page in static_dir.rglob("*.html"):
        hashes.update(script_hash(source) for source in INLINE_SCRIPT.findall(page.read_bytes()))
    return sorted(hashes)


@lru_cache
def _built_pages_dir() -> Path:
    """Where `reflex run --single-port` serves the built pages from (reflex.utils.exec)."""
    from reflex.config import get_config
    from reflex.constants import Dirs
    from reflex.utils.prerequisites import get_web_dir

    return get_web_dir() / Dirs.STATIC / get_config().frontend_path.strip("/")


def dashboard_policy() -> str:
    """The policy for the built dashboard, read again only when the build changes."""
    static_dir = _built_pages_dir()
    try:
        build_stamp = (static_dir / "index.html").stat().st_mtime_ns
    except OSError:
        build_stamp = None
    return _policy_for_build(static_dir, build_stamp)


@lru_cache(maxsize=4)
def _policy_for_build(static_dir: Path, build_stamp: int | None) -> str:
    hashes = inline_script_hashes(static_dir) if build_stamp is not None else []
    if not hashes:
        log.warning(
            "no built pages in %s: the dashboard's inline scripts will be refused", static_dir
        )
    return content_security_policy(script_sources=hashes, allow_eval=True)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # MutableHeaders edits the list in place; an ASGI app may send a tuple.
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(scope=message)
                headers.setdefault(CSP_HEADER, dashboard_policy())
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
            await send(message)

        await self.app(scope, receive, with_headers)
