"""Reflex's upload route (`POST /_upload`) for signed-in users only, and bounded.

Reflex accepts an upload from anyone who names a client token and an upload
handler, and parses the whole multipart body (to temporary files) before the
handler runs. This ASGI wrapper answers first, from the headers alone: the
page sends the session token as `Authorization: Bearer …` (see
pages/schedule_import.py), which is checked as the API checks it and counted
against the same per-minute limits; the body must declare its length, at most
MAX_UPLOAD_BYTES. Only then is the request passed on, its body cut off should
it run past the limit anyway.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookboard.services import ServiceError
from hookboard.services.credentials import WORKSPACE_HEADER, requested_workspace
from hookboard.services.dashboard import session_access
from hookboard.services.request_limits import RateLimited, count_request, credential_of
from hookboard.ui import services
from hookboard.ui.schedule_transfer import MAX_DOCUMENT_BYTES

UPLOAD_PATH = "/_upload"  # reflex_base.constants.Endpoint.UPLOAD
# The multipart envelope around the one file: boundaries, part headers, file name.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_UPLOAD_BYTES = MAX_DOCUMENT_BYTES + MULTIPART_OVERHEAD_BYTES


def _refuse(status: int, code: str, message: str, headers=None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": None}}
    # Nothing of the body was read: the connection cannot carry another request.
    return JSONResponse(
        body, status_code=status, headers={**(headers or {}), "Connection": "close"}
    )


def refusal(headers: Headers) -> JSONResponse | None:
    """Why this upload is refused, judged from its headers only; None to accept it."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    try:
        workspace_id = requested_workspace(headers.get(WORKSPACE_HEADER))
    except ServiceError as error:
        return _refuse(422, "invalid_input", str(error))
    with services.db() as session:
        found = session_access(
            session, token=token.strip(), now=services.now(), workspace_id=workspace_id
        )
    if scheme.lower() != "bearer" or found is None:
        return _refuse(401, "unauthorized", "log in to upload")
    try:
        count_request(
            workspace_id=found.workspace_id,
            credential=credential_of(session_id=found.session_id),
        )
    except RateLimited as error:
        return _refuse(429, "rate_limited", str(error), error.headers)
    length = headers.get("content-length", "")
    if not length.isdigit():
        return _refuse(411, "length_required", "an upload must declare its Content-Length")
    if int(length) > MAX_UPLOAD_BYTES:
        limit_mib = MAX_DOCUMENT_BYTES // 1024 // 1024
        return _refuse(413, "payload_too_large", f"the file is larger than {limit_mib} MiB")
    return None


def _capped(receive: Receive, limit: int) -> Receive:
    """The request's body, ended as a disconnect once more than `limit` bytes came."""
    seen = 0

    async def capped_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped_receive


class UploadGuard:
    """Wraps the whole app; every other path passes untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        refused = await run_in_threadpool(refusal, Headers(scope=scope))
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.app(scope, _capped(receive, MAX_UPLOAD_BYTES), send)
