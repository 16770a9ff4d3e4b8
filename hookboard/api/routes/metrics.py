"""GET /metrics: Prometheus text format, beside the API (not under /api/v1).

The counts cover every user, so by default only a scraper on the same host
gets them: a loopback client whose request came through no proxy (a local
reverse proxy would make every visitor look like 127.0.0.1, so a request
carrying X-Forwarded-For or Forwarded is refused too). METRICS_TOKEN opens it
to any address with `Authorization: Bearer <token>` (what Prometheus'
`authorization` scrape setting sends); METRICS_PUBLIC=true opens it to all.
It is not a user's API: no session or API key opens it, and it is left out
of the OpenAPI schema.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from ipaddress import ip_address
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hookboard.api.deps import UNAUTHORIZED_HEADERS
from hookboard.api.errors import ApiError
from hookboard.api.metrics_collector import metrics_registry
from hookboard.core.db import get_read_engine
from hookboard.core.redis_client import get_redis
from hookboard.settings import get_settings

router = APIRouter(tags=["operations"], include_in_schema=False)


@lru_cache
def registry() -> CollectorRegistry:
    return metrics_registry(get_redis(), get_read_engine(), get_settings().queue_name)


def check_access(request: Request, authorization: str | None) -> None:
    settings = get_settings()
    if settings.metrics_token:
        check_token(authorization, settings.metrics_token)
    elif not settings.metrics_public and not _local_unproxied(request):
        raise ApiError(
            403,
            "/metrics answers local scrapers only; set METRICS_TOKEN (or METRICS_PUBLIC=true)",
        )


def _local_unproxied(request: Request) -> bool:
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        return ip_address((request.client.host if request.client else "") or "").is_loopback
    except ValueError:
        return False


def check_token(authorization: str | None, expected: str) -> None:
    scheme, _, given = (authorization or "").partition(" ")
    matches = hmac.compare_digest(given.strip().encode(), expected.encode())
    if scheme.lower() != "bearer" or not matches:
        raise ApiError(
            401, "/metrics needs the METRICS_TOKEN bearer token", headers=UNAUTHORIZED_HEADERS
        )


@router.get("/metrics")
def metrics(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
    check_access(request, authorization)
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
