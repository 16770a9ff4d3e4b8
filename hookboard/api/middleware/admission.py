"""Admission control: at most `limit` API requests use the database at once.

Why: a request keeps its pooled connection across several thread hops (the
auth dependency, the route, the session's teardown). With more requests in
flight than connections, threads wait for connections held by requests that
are parked waiting for a thread, and both sides stall until the pool timeout:
the 500s once seen under 100 concurrent clients. Requests past the limit wait
here instead, in the event loop, where waiting costs nothing; one that waits
longer than `wait_seconds` is answered 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Receive, Scope, Send

from hookboard.api.errors import error_response

DEFAULT_WAIT_SECONDS = 15.0


class AdmissionLimit:
    def __init__(self, app: ASGIApp, *, limit: int, wait_seconds: float = DEFAULT_WAIT_SECONDS):
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        # One semaphore per event loop: test clients may run the app in several.
        self._slots: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.limit)
        return slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slots = self._semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), self.wait_seconds)
        except TimeoutError:
            busy = error_response(
                503,
                "server_busy",
                "too many requests in progress; retry shortly",
                headers={"Retry-After": "1"},
            )
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()
