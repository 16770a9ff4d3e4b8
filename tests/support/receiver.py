"""A fast, dependency-free HTTP/1.1 receiver on loopback for tests and benchmarks.

It runs an asyncio server in a background thread, records every request and answers with a
configurable (or scripted) response. Besides answering it can misbehave on purpose:

* ``"hang"``:  read the request, never answer (client timeouts);
* ``"close"``: read the request, then close cleanly without answering (client sees EOF);
* ``"reset"``: read the request, then abort with a TCP RST (client sees a reset).

Usage::

    with Receiver(status=503) as rx:
        ...  # send to rx.url
        [request] = rx.wait_for(1)
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Literal

Mode = Literal["respond", "hang", "close", "reset"]
Reply = tuple[int, Mapping[str, str], bytes]
Responder = Callable[["ReceivedRequest"], Reply | Mode]

_MAX_HEAD_BYTES = 64 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_NO_BODY_STATUSES = frozenset({204, 304})
_UNSET = object()


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    received_at: datetime  # aware UTC
    connection_id: int


@dataclass(frozen=True)
class _Behaviour:
    status: int
    delay: float
    body: bytes
    headers: Mapping[str, str]
    responder: Responder | None
    mode: Mode


class _BadRequest(Exception):
    pass


class Receiver:
    """An HTTP receiver on ``host`` (127.0.0.1 or ::1) and a free port; a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        status: int = 200,
        delay: float = 0.0,
        body: bytes = b"ok",
        headers: Mapping[str, str] | None = None,
        responder: Responder | None = None,
        mode: Mode = "respond",
        record: bool = True,
    ) -> None:
        self.host = host
        self.port = 0
        self.requests: list[ReceivedRequest] = []
        self.request_count = 0
        self.connections = 0  # accepted TCP connections: proves whether anything got through
        self._record = record
        self._behaviour = _Behaviour(status, delay, body, dict(headers or {}), responder, mode)
        self._arrived = threading.Condition()
        self._connection_ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self._run, name=f"receiver-{self.host}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- test helpers ----------------------------------------------------------------------------

    def set_response(
        self,
        status: int | object = _UNSET,
        delay: float | object = _UNSET,
        body: bytes | object = _UNSET,
        headers: Mapping[str, str] | object = _UNSET,
        *,
        responder: Responder | object | None = _UNSET,
        mode: Mode | object = _UNSET,
    ) -> None:
        """Change how later requests are answered; omitted arguments keep their value."""
        current = self._behaviour
        self._behaviour = _Behaviour(
            status=current.status if status is _UNSET else status,  # type: ignore[arg-type]
            delay=current.delay if delay is _UNSET else delay,  # type: ignore[arg-type]
            body=current.body if body is _UNSET else body,  # type: ignore[arg-type]
            headers=current.headers if headers is _UNSET else dict(headers),  # type: ignore[call-overload]
            responder=current.responder if responder is _UNSET else responder,  # type: ignore[arg-type]
            mode=current.mode if mode is _UNSET else mode,  # type: ignore[arg-type]
        )

    def wait_for(self, n: int, timeout: float = 10) -> list[ReceivedRequest]:
        """Block until at least ``n`` requests arrived; return (a copy of) all of them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: self.request_count >= n, timeout):
                raise TimeoutError(f"expected {n} requests, received {self.request_count}")
            return list(self.requests)

    # --- server ----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced to start() if the bind failed
            self._startup_error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        writers: set[asyncio.StreamWriter] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.add(writer)
            try:
                await self._handle_connection(reader, writer)
            finally:
                writers.discard(writer)

        server = await asyncio.start_server(
            handle, self.host, 0, limit=_MAX_HEAD_BYTES, reuse_address=True
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            for writer in list(writers):
                writer.transport.abort()

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        connection_id = next(self._connection_ids)
        try:
            # Anything but an ASCII method (e.g. a TLS ClientHello) gets a 400 at once, as a
            # real plain-HTTP server would answer, instead of waiting for a blank line.
            prefix = await reader.readexactly(1)
            if not prefix.isalpha():
                writer.write(_response_bytes(400, {}, b"bad request\n", keep_alive=False))
                return
            while True:
                try:
                    request, keep_alive = await _read_request(reader, connection_id, prefix)
                    prefix = b""
                except (asyncio.IncompleteReadError, ConnectionError):
                    return  # client went away between requests
                except (_BadRequest, asyncio.LimitOverrunError, ValueError):
                    writer.write(_response_bytes(400, {}, b"bad request\n", keep_alive=False))
                    return
                self._store(request)
                if not await self._answer(request, writer, keep_alive):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def _store(self, request: ReceivedRequest) -> None:
        with self._arrived:
            if self._record:
                self.requests.append(request)
            self.request_count += 1
            self._arrived.notify_all()

    async def _answer(
        self, request: ReceivedRequest, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        """Send the reply; False when the connection must not be reused."""
        behaviour = self._behaviour
        reply: Reply | Mode
        if behaviour.mode != "respond":
            reply = behaviour.mode
        elif behaviour.responder is not None:
            try:
                reply = behaviour.responder(request)
            except Exception as exc:  # a broken script shows up as a 500, not a silent hang
                reply = (500, {}, repr(exc).encode())
        else:
            reply = (behaviour.status, behaviour.headers, behaviour.body)
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if isinstance(reply, str):
            await _misbehave(reply, writer)
            return False
        status, headers, body = reply
        if request.method == "HEAD" or status in _NO_BODY_STATUSES:
            body = b""
        writer.write(_response_bytes(status, headers, body, keep_alive=keep_alive))
        await writer.drain()
        return keep_alive


async def _misbehave(mode: str, writer: asyncio.StreamWriter) -> None:
    if mode == "hang":
        await asyncio.Event().wait()  # until the receiver stops and cancels us
    elif mode == "reset":
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    # "close": the caller closes the connection cleanly.


async def _read_request(
    reader: asyncio.StreamReader, connection_id: int, prefix: bytes = b""
) -> tuple[ReceivedRequest, bool]:
    head = prefix + await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(request_line)
    method, path, version = parts
    headers: dict[str, str] = {}
    for line in header_lines:
        name, separator, value = line.partition(":")
        if not separator:
            raise _BadRequest(line)
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    body = await _read_body(reader, headers)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
    received = ReceivedRequest(method, path, headers, body, datetime.now(UTC), connection_id)
    return received, keep_alive


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = int(headers.get("content-length", "0"))
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # skip trailers
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _response_bytes(
    status: int, headers: Mapping[str, str], body: bytes, *, keep_alive: bool
) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    names = {name.lower() for name in headers}
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    if "connection" not in names:
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
