"""What several route modules share: paging parameters, the services' config,
the clock, and answering a creating request at most once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Header, Query, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from hookboard import services as service
from hookboard.api import idempotency
from hookboard.api.errors import ApiError, rate_limit_headers_of
from hookboard.core.redis_client import get_redis
from hookboard.services.workspaces.permissions import Access
from hookboard.settings import get_settings

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key returns the first answer (kept 24 h).",
        # The limits idempotency.run_once enforces, stated in the schema too.
        min_length=1,
        max_length=idempotency.MAX_KEY_CHARS,
        # Documented only: run_once's own check gives the clearer message.
        json_schema_extra={"pattern": "^[ -~]+$"},
    ),
]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of a page.")]


@lru_cache
def service_config() -> service.ServiceConfig:
    return service.ServiceConfig.from_settings(get_settings())


def utcnow() -> datetime:
    return datetime.now(UTC)


def unavailable(message: str) -> ApiError:
    return ApiError(503, message, code="unavailable")


def idempotent(
    *,
    caller: Access,
    key: str | None,
    request: Request,
    payload: Callable[[], Any],
    produce: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Run `produce` (-> status, JSON body) at most once per Idempotency-Key.

    `payload` (what a reused key must match) is only computed when a key is
    given. The body is answered as it is, already JSON: FastAPI would validate
    it against the route's model again, in one more thread hop. Whatever
    `produce` raises (a service error too) releases the key and propagates."""
    headers = rate_limit_headers_of(request)
    if key is None:
        status, body = produce()
        return JSONResponse(body, status_code=status, headers=headers)
    try:
        stored = idempotency.run_once(
            get_redis(),
            namespace=get_settings().queue_name,
            workspace_id=caller.workspace_id,
            key=key,
            request_fingerprint=idempotency.fingerprint(
                request.method, request.url.path, payload()
            ),
            produce=produce,
        )
    except idempotency.InvalidIdempotencyKey as error:
        raise ApiError(422, str(error), field="Idempotency-Key") from None
    except idempotency.IdempotencyKeyReused as error:
        raise ApiError(
            422, str(error), code="idempotency_key_reused", field="Idempotency-Key"
        ) from None
    except idempotency.IdempotencyInProgress as error:
        raise ApiError(409, str(error), code="idempotency_in_progress") from None
    except RedisError:
        raise unavailable("Idempotency-Key cannot be honoured: Redis is unavailable") from None
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(stored.body, status_code=stored.status, headers=headers)
