"""Which browser origins may call the API: the CORS_ORIGINS setting.

Empty (the default) means same origin only: no CORS headers are sent and
preflights are refused. Tokens travel in the Authorization header, never in
cookies, so credentials are not allowed cross-origin.

Two layers must agree, because Reflex wraps the mounted API in its own
CORSMiddleware (outermost, so it answers preflights first) configured from
`rx.Config(cors_allowed_origins=...)`, whose default "*" allows every origin:

- rxconfig.py: `cors_allowed_origins=cors_origins(settings)`;
- create_api(): `add_cors(api)`, which also applies when the API is served
  alone and exposes the rate-limit headers to browser code.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

from hookboard.settings import Settings, get_settings

log = logging.getLogger("hookboard.api")

ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ALLOWED_HEADERS = ["Authorization", "Content-Type"]
EXPOSED_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"]
PREFLIGHT_MAX_AGE_SECONDS = 600


def cors_origins(settings: Settings | None = None) -> list[str]:
    """CORS_ORIGINS as a list: "https://a.example, https://b.example/" -> two origins."""
    settings = settings or get_settings()
    origins = []
    for item in settings.cors_origins.split(","):
        origin = item.strip().rstrip("/")
        if not origin:
            continue
        if origin != "*" and "://" not in origin:
            log.warning("CORS_ORIGINS: %r has no scheme (https://...): no browser sends it", origin)
        origins.append(origin)
    return origins


def add_cors(app: Starlette, origins: list[str] | None = None) -> None:
    """Answer CORS for `origins` (default: CORS_ORIGINS) on a Starlette/FastAPI app."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins() if origins is None else origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
