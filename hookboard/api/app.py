"""The REST API as a FastAPI app; Reflex mounts it through `api_transformer`."""

from fastapi import FastAPI

from hookboard import __version__
from hookboard.api.errors import ERROR_RESPONSES, add_api_fallback, install_error_handlers
from hookboard.api.middleware.admission import AdmissionLimit
from hookboard.api.middleware.body_limit import BodyLimit
from hookboard.api.middleware.client_ip import TrustedProxyClient
from hookboard.api.middleware.cors import add_cors
from hookboard.api.middleware.security_headers import SecurityHeaders
from hookboard.api.routes import badge, channels, docs, health, metrics, schedule_io
from hookboard.core.db import ADMITTED_REQUESTS
from hookboard.settings import get_settings

API_PREFIX = "/api/v1"


def create_api() -> FastAPI:
    settings = get_settings()
    api = FastAPI(
        title="Hookboard",
        version=__version__,
        description="Cron for webhooks: schedules, deliveries and their logs.",
        # /docs is served from local files (api/routes/docs.py); ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(api)
    # Inside CORS (added after), so that a 503 still carries CORS headers.
    api.add_middleware(AdmissionLimit, limit=ADMITTED_REQUESTS)
    add_cors(api)
    # Outside admission and CORS: every layer sees the client's address, not the proxy's.
    api.add_middleware(TrustedProxyClient, hops=settings.trusted_proxy_hops)
    # Outside all but the headers: an oversized body is refused before any work (auth, parsing).
    api.add_middleware(BodyLimit, max_bytes=settings.max_request_body_bytes)
    # Outermost: every answer, a 413 and the mounted dashboard's pages too, carries them.
    api.add_middleware(SecurityHeaders, hsts=settings.served_over_https)
    api.include_router(health.router)
    api.include_router(metrics.router)
    api.include_router(docs.router)
    # Before /schedules/{schedule_id}, which would take "export" for an id.
    api.include_router(schedule_io.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for router in _v1_routers():
        api.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    api.include_router(channels.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    # Public and an image: only its 404 is an error body.
    api.include_router(badge.router, prefix=API_PREFIX, responses={404: ERROR_RESPONSES[404]})
    add_api_fallback(api, API_PREFIX)
    return api


def _v1_routers():
    # Each resource is a module in hookboard/api/routes with its own APIRouter.
    from hookboard.api.routes import v1_routers

    return v1_routers()
