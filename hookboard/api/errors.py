"""One JSON error shape for every failure:

    {"error": {"code": "validation_error", "message": "...", "field": "request.url"}}

`code` is machine-readable, `message` is for people, `field` names the input at
fault (dotted path into the JSON body, or the query/path parameter) or is null.

Routes raise `ApiError`, or let a service's error through: `InvalidInput` is a
422, `NotFound` a 404, `Conflict` a 409 (see `api_error_of`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hookboard.api.allow import AllowedMethods
from hookboard.services import Conflict, InvalidInput, NotFound, ServiceError
from hookboard.services.workspaces.permissions import Forbidden

log = logging.getLogger("hookboard.api")

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# Documented on every /api/v1 route, so the OpenAPI schema says what errors look like.
ERROR_RESPONSES = {
    status: {"model": ErrorBody, "description": code.replace("_", " ")}
    for status, code in STATUS_CODES.items()
    if status in (400, 401, 403, 404, 409, 413, 422, 429)
}


class ApiError(Exception):
    """Raise anywhere in a route: becomes the JSON error with this status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.field = field
        self.headers = headers or {}


def not_found(what: str = "resource") -> ApiError:
    # Another user's row and a missing row look exactly alike.
    return ApiError(404, f"{what} not found")


def api_error_of(error: ServiceError) -> ApiError | None:
    """The answer to a service's error; None for one the API does not map (a 500)."""
    if isinstance(error, InvalidInput):
        return ApiError(422, error.message, field=error.field)
    if isinstance(error, NotFound):
        return not_found(error.what)
    if isinstance(error, Conflict):
        return ApiError(409, error.message, code=error.code, field=error.field)
    if isinstance(error, Forbidden):
        return ApiError(403, error.message, code="forbidden")
    return None


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers=None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def field_path(location: tuple) -> str | None:
    """('body', 'request', 'url') -> 'request.url'; ('query', 'limit') -> 'limit'.

    Only the leading source is dropped: ('body', 'request', 'body') is 'request.body'.
    """
    if location and location[0] in ("body", "query", "path", "header", "cookie"):
        location = location[1:]
    return ".".join(str(part) for part in location) or None


def rate_limit_headers_of(request: Request) -> dict[str, str]:
    """The X-RateLimit-* headers the auth dependency set for this request (a copy).
    A response a route or handler builds itself must add them; FastAPI only
    merges them into the response it builds from a route's return value."""
    return dict(getattr(request.state, "rate_limit_headers", None) or {})


def add_api_fallback(app: FastAPI, prefix: str) -> None:
    """Under `prefix`, a path or method no route takes is a JSON 404 or 405 (with the
    resource's Allow). Without it the request would fall through to the dashboard,
    which Reflex mounts behind the API: its HTML 404 or plain-text 405. Add it last."""
    allowed = AllowedMethods(app)

    async def unrouted(request: Request) -> None:
        methods = allowed.methods(request.url.path)
        raise StarletteHTTPException(404 if not methods else 405)

    app.add_api_route(
        prefix + "/{path:path}", unrouted, methods=list(ALL_METHODS), include_in_schema=False
    )


ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def install_error_handlers(app: FastAPI) -> None:
    allowed = AllowedMethods(app)

    def _names_another_resource(request: Request, first: dict) -> bool:
        # A path id that is really a fixed segment: GET /schedules/preview.
        if tuple(first.get("loc", ()))[:1] != ("path",):
            return False
        methods = allowed.methods(request.url.path)
        return methods is not None and request.method not in methods

    def _method_not_allowed(request: Request) -> JSONResponse | None:
        """405 when the path's most specific resource lacks the method: PATCH
        /schedules/preview is routed to PATCH /schedules/{id}, whose caller
        check (a workspace header naming no workspace, say) may fail first."""
        methods = allowed.methods(request.url.path)
        if methods is None or request.method in methods:
            return None
        headers = {**rate_limit_headers_of(request), "Allow": allowed.header(request.url.path)}
        return error_response(405, "method_not_allowed", "Method Not Allowed", None, headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError):
        if error.status in (401, 403, 404) and (wrong := _method_not_allowed(request)):
            return wrong
        headers = {**rate_limit_headers_of(request), **error.headers}
        return error_response(error.status, error.code, error.message, error.field, headers)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError):
        # Routes let the services' errors through, from a threadpool or an
        # idempotent `produce` too (which releases its key on the way out).
        answer = api_error_of(error)
        if answer is None:
            raise error  # to _unexpected, as any other bug
        return await _api_error(request, answer)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid input"}
        if _names_another_resource(request, first) and (wrong := _method_not_allowed(request)):
            return wrong
        message = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
        field = field_path(tuple(first.get("loc", ())))
        headers = rate_limit_headers_of(request)
        return error_response(422, "validation_error", message, field, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):
        code = STATUS_CODES.get(error.status_code, "error")
        headers = {**rate_limit_headers_of(request), **(error.headers or {})}
        if error.status_code == 405 and (allow := allowed.header(request.url.path)):
            headers["Allow"] = allow
        return error_response(error.status_code, code, str(error.detail), None, headers)

    @app.exception_handler(PoolTimeoutError)
    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, error: Exception):
        # Overload (pool exhausted, SQLite lock timeout) or an outage: the
        # request can be retried as it is, so say so instead of a 500.
        log.warning("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        headers = {**rate_limit_headers_of(request), "Retry-After": "1"}
        return error_response(
            503, "unavailable", "database busy or unavailable; retry", None, headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception):
        # A bug: log it (without request data, which may hold secrets) and say so.
        log.exception("unhandled error: %s", type(error).__name__)
        return error_response(500, "internal_error", "internal error")
