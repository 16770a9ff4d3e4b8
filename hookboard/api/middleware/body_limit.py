"""MAX_REQUEST_BODY_BYTES: a larger request body is answered 413 before it is read.

Outermost of the web process, so it runs before authentication, JSON parsing
and Reflex's own routes (/_upload included): a declared Content-Length over
the limit is refused without reading a byte, and a chunked or under-declared
body is counted as it streams and refused as soon as it passes the limit.
After that 413 the application sees the client as gone (`http.disconnect`)
and whatever it still tries to send is dropped.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookboard.api.errors import error_response


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large(limit: int):
    return error_response(413, "payload_too_large", f"request body is larger than {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large(self.max_bytes)(scope, receive, send)
            return
        await _CountedRequest(self.app, self.max_bytes)(scope, receive, send)


class _CountedRequest:
    """One request whose body is counted as the application reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.received = 0
        self.started = False
        self.refused = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.max_bytes:
                    await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if self.refused:
                return  # the 413 went out: the application's late answer is dropped
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.refused:
                raise
            # The application failed on the cut-off body (a disconnect): already answered.

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.refused = True
        if self.started:
            return  # too late for a status: the response already began

        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        await too_large(self.max_bytes)(scope, nothing, send)
