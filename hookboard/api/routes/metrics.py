"""GET /metrics: Prometheus text format, beside the API (not under /api/v1).

Open unless METRICS_TOKEN is set; then it needs `Authorization: Bearer <token>`.
It is not a user's API: no session or API key opens it, and it is left out
of the OpenAPI schema.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Header, Response
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


def check_token(authorization: str | None) -> None:
    expected = get_settings().metrics_token
    if not expected:
        return
    scheme, _, given = (authorization or "").partition(" ")
    matches = hmac.compare_digest(given.strip().encode(), expected.encode())
    if scheme.lower() != "bearer" or not matches:
        raise ApiError(
            401, "/metrics needs the METRICS_TOKEN bearer token", headers=UNAUTHORIZED_HEADERS
        )


@router.get("/metrics")
def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    check_token(authorization)
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
