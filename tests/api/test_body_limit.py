"""MAX_REQUEST_BODY_BYTES: an oversized body is a 413 before auth and before parsing."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import signup
from tests.api.support import error_of

LIMIT = 1_048_576  # the default


def raw_chunked_post(base: str, path: str, chunks: list[bytes]) -> tuple[int, bytes]:
    """POST a chunked body (no Content-Length); (status, response bytes). Stops sending
    when the server has answered, as a client would."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        sock.setblocking(False)
        answer = b""
        for chunk in chunks:
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                continue
            if answer:
                break
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            sock.sendall(b"0\r\n\r\n")
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    return int(answer.split(b" ", 2)[1]), answer


def test_it_refuses_a_declared_oversized_body_before_auth(client):
    response = client.post(
        "/schedules",
        content=b"{" + b" " * LIMIT + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert error_of(response)["code"] == "payload_too_large"


def test_it_refuses_a_large_json_body_of_a_signed_in_user_without_parsing_it(client):
    auth = signup(client)
    document = {"targets": [{"name": f"t{i}", "url": "https://a.example/"} for i in range(40_000)]}
    started = time.monotonic()
    response = client.post("/schedules/import", json=document, headers=auth)
    assert response.status_code == 413, response.text
    assert error_of(response) == {
        "code": "payload_too_large",
        "message": f"request body is larger than {LIMIT} bytes",
        "field": None,
    }
    assert time.monotonic() - started < 5


def test_it_refuses_a_chunked_body_once_it_passes_the_limit(api_server, client):
    chunk = b" " * 65536
    status, answer = raw_chunked_post(api_server[0], "/api/v1/schedules", [b"{"] + [chunk] * 40)
    assert status == 413, answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "payload_too_large"


def test_a_chunked_body_under_the_limit_is_read_as_usual(api_server, client):
    body = json.dumps({"email": "chunky@example.com", "password": "s3cret-pass"}).encode()
    status, answer = raw_chunked_post(api_server[0], "/api/v1/auth/signup", [body[:10], body[10:]])
    assert status == 201, answer[:300]


@pytest.mark.parametrize("size", [LIMIT - 100, LIMIT])
def test_a_body_at_or_under_the_limit_reaches_the_route(client, size):
    body = b'{"email": "x@example.com", "password": "' + b"p" * (size - 42) + b'"}'
    response = client.post(
        "/auth/login", content=body[:size], headers={"Content-Type": "application/json"}
    )
    assert response.status_code != 413, response.text
