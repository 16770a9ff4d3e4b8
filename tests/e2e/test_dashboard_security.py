"""The running app (started as the README starts it) against what issue 18 found:
uploads without a session or past the size limit, a websocket opened from another
site, files readable by other users, and a logged-out tab still holding secrets."""

from __future__ import annotations

import json
import re
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from playwright.sync_api import Page, expect
from redis import Redis

from hookboard.ui.pages.schedule_import import ImportState
from hookboard.ui.schedule_transfer import MAX_DOCUMENT_BYTES
from tests.e2e.app import DESKTOP
from tests.e2e.helpers import TIMEOUT_MS, go, toast
from tests.support.processes import PROJECT_ROOT

READ_FILE = f"{ImportState.get_full_name()}.read_file"
PASSWORD = "correct horse battery"
MiB = 1024 * 1024


class RunningApp:
    def __init__(self, url: str, data_dir: Path, redis_url: str):
        self.url, self.data_dir, self.redis_url = url, data_dir, redis_url
        self.port = urlsplit(url).port

    def sign_up(self, email: str) -> str:
        answer = httpx.post(
            f"{self.url}/api/v1/auth/signup", json={"email": email, "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]

    def web_rss(self) -> int:
        """Resident memory of the processes that serve the port."""
        pids = {
            conn.pid
            for conn in psutil.net_connections(kind="tcp")
            if conn.laddr and conn.laddr.port == self.port and conn.status == "LISTEN"
        }
        return sum(psutil.Process(pid).memory_info().rss for pid in pids if pid)


@pytest.fixture(scope="module")
def app(running_app) -> RunningApp:
    return RunningApp(*running_app)


# ---------------------------------------------------------------- uploads


def upload_head(app: RunningApp, length: int, token: str | None, boundary: str) -> bytes:
    lines = [
        "POST /_upload HTTP/1.1",
        f"Host: 127.0.0.1:{app.port}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {length}",
        "Reflex-Client-Token: 0d1c2b3a-upload-test",
        f"Reflex-Event-Handler: {READ_FILE}",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(boundary: str, content: bytes) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="big.json"\r\nContent-Type: application/json\r\n\r\n'
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode()


def answer_before_body(app: RunningApp, head: bytes, wait: float = 5.0) -> bytes:
    """Send only the head of a request; what the server says before any body byte."""
    with socket.create_connection(("127.0.0.1", app.port), timeout=wait) as sock:
        sock.sendall(head)
        try:
            return sock.recv(65536)
        except TimeoutError:
            return b""


def status_of(answer: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return int(match.group(1)) if match else None


def test_an_upload_without_a_session_is_refused_before_its_body_is_read(app):
    boundary = "hookboardtest"
    answer = answer_before_body(app, upload_head(app, 200 * MiB, None, boundary))
    assert status_of(answer) == 401, answer[:200]
    forged = answer_before_body(app, upload_head(app, 1000, "hbs_forged", boundary))
    assert status_of(forged) == 401


def test_an_oversize_upload_from_a_signed_in_user_is_refused_and_memory_stays(app):
    token = app.sign_up("uploader@example.com")
    boundary = "hookboardtest"
    content = b'{"version": 1, "padding": "' + b"x" * (MAX_DOCUMENT_BYTES + MiB) + b'"}'
    body = multipart(boundary, content)
    before = app.web_rss()
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", app.port), timeout=60) as sock:
            sock.sendall(upload_head(app, len(body), token, boundary))
            sock.settimeout(2)
            try:
                early = sock.recv(65536)
            except TimeoutError:  # not refused up front: send the body (the old way in)
                sock.settimeout(60)
                sock.sendall(body)
                early = sock.recv(65536)
        assert status_of(early) == 413, early[:200]
    time.sleep(1)
    grown = app.web_rss() - before
    assert grown < len(content) // 2, f"the web process grew by {grown / MiB:.1f} MiB"


def test_a_signed_in_upload_within_the_limit_reaches_the_import_dialog(app):
    token = app.sign_up("small-upload@example.com")
    boundary = "hookboardtest"
    body = multipart(boundary, b'{"version": 1, "targets": [], "schedules": []}')
    with socket.create_connection(("127.0.0.1", app.port), timeout=30) as sock:
        sock.sendall(upload_head(app, len(body), token, boundary) + body)
        answer = sock.recv(65536)
    assert status_of(answer) == 200, answer[:300]


# ---------------------------------------------------------------- websocket origin


def handshake(app: RunningApp, origin: str) -> int | None:
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{app.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        sock.sendall(request.encode())
        return status_of(sock.recv(4096))


def test_the_websocket_refuses_a_page_from_another_site(app):
    assert handshake(app, f"http://127.0.0.1:{app.port}") == 101
    assert handshake(app, "http://evil.example") != 101
    assert handshake(app, f"http://127.0.0.1:{app.port}.evil.example") != 101


# ---------------------------------------------------------------- file modes


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_and_the_database_are_the_owners_only(app):
    assert mode(app.data_dir) == 0o700
    database = app.data_dir / "hookboard.db"
    assert mode(database) == 0o600
    for companion in ("hookboard.db-wal", "hookboard.db-shm", "secret_key"):
        if (app.data_dir / companion).exists():
            assert mode(app.data_dir / companion) == 0o600, companion
    states = PROJECT_ROOT / ".states"
    recent = [p for p in states.glob("*.pkl") if p.stat().st_mtime > time.time() - 3600]
    assert all(mode(p) & 0o077 == 0 for p in recent), [oct(mode(p)) for p in recent]


# ---------------------------------------------------------------- logout in a browser


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def server_state_holds(app: RunningApp, text: str) -> list[str]:
    """Where Reflex keeps the tabs' states (.states/ on disk, or Redis) still holds `text`."""
    needle = text.encode()
    found = [p.name for p in (PROJECT_ROOT / ".states").glob("*.pkl") if needle in p.read_bytes()]
    redis = Redis.from_url(app.redis_url)
    for key in redis.scan_iter(count=1000):
        kind = redis.type(key)
        values = [redis.get(key) or b""] if kind == b"string" else []
        values += redis.hvals(key) if kind == b"hash" else []
        if any(needle in value for value in values):
            found.append(key.decode(errors="replace"))
    return found


def stored_eventually(app: RunningApp, text: str, *, held: bool) -> bool:
    """Whether the server's states hold `text`, waiting up to 10 s for them to say `held`:
    Reflex writes to disk 2 s after a change (REFLEX_STATE_MANAGER_DISK_DEBOUNCE)."""
    deadline = time.monotonic() + 10
    while bool(server_state_holds(app, text)) != held and time.monotonic() < deadline:
        time.sleep(0.5)
    return bool(server_state_holds(app, text))


def test_after_logout_the_tab_no_longer_holds_the_signing_secret(app, page):
    app.sign_up("leaver@example.com")
    go(page, app.url, "/login")
    page.fill("#email", "leaver@example.com")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    go(page, app.url, "/settings")
    page.click("#reveal-secret")
    expect(page.locator("#signing-secret")).not_to_contain_text("•")
    secret = page.locator("#signing-secret").inner_text().strip()
    assert len(secret) > 20 and "•" not in secret
    assert stored_eventually(app, secret, held=True)  # the test sees it there while signed in

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    toast(page, "Logged out")
    page.wait_for_timeout(500)

    assert secret not in page.content()
    stored = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
    assert secret not in stored and "hbs_" not in json.loads(stored).get("hookboard_session", "")
    assert not stored_eventually(app, secret, held=False), server_state_holds(app, secret)
