"""The dashboard and /docs in Chromium under their Content-Security-Policy (issue 18):
every page carries the policy, the built pages and Swagger UI run without a single
violation, login works (websocket and toasts included) and no request leaves 127.0.0.1."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.app import DESKTOP
from tests.e2e.helpers import TIMEOUT_MS, go, toast

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "csp@example.com"
PASSWORD = "correct horse battery"
# Installed before any page script runs (Playwright injects it past the CSP).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
));
"""


class Watched:
    """A page whose CSP violations, console CSP errors and requests are recorded."""

    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._on_console)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda socket: self.requests.append(socket.url))

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text[:300])

    def visit(self, base: str, path: str) -> dict[str, str]:
        """Open `path`; its response headers. Violations so far must be none."""
        response = self.page.goto(base + path)
        self.page.wait_for_load_state("networkidle")
        self.assert_no_violation()
        return response.headers

    def assert_no_violation(self) -> None:
        assert self.page.evaluate("window.__violations") == []
        assert self.console == []

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname != "127.0.0.1"
        ]


@pytest.fixture(scope="module")
def watched(browser) -> Watched:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_VIOLATIONS)
    yield Watched(context.new_page())
    context.close()


@pytest.fixture(scope="module")
def schedule_id(app_url) -> int:
    """A user (signed up through the API) with one schedule to open in the editor."""
    answer = httpx.post(
        f"{app_url}/api/v1/auth/signup", json={"email": EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    created = httpx.post(
        f"{app_url}/api/v1/schedules",
        headers={"Authorization": f"Bearer {answer.json()['token']}"},
        json={
            "name": "nightly under csp",
            "kind": "cron",
            "cron": "0 2 * * *",
            "timezone": "UTC",
            "request": {"url": "http://127.0.0.1:9/hook"},
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def policy_of(headers: dict[str, str]) -> dict[str, list[str]]:
    directives = headers["content-security-policy"].split(";")
    return {name: sources for name, *sources in (d.split() for d in directives if d.strip())}


def test_pages_forbid_framing_sniffing_and_foreign_scripts(app_url):
    headers = httpx.get(f"{app_url}/login/").headers
    policy = policy_of(headers)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert all(s.startswith("'sha256-") for s in policy["script-src"][2:])
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # PUBLIC_URL is not https here


def test_log_in_the_schedules_and_the_editor_run_without_a_violation(watched, app_url, schedule_id):
    page = watched.page
    headers = watched.visit(app_url, "/login")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    toast(page, "Welcome back")  # a toast is a script the server sends: it must still run
    page.wait_for_url(re.compile(r"/$"))
    watched.assert_no_violation()

    watched.visit(app_url, "/schedules")
    expect(page.get_by_text("nightly under csp")).to_be_visible()
    watched.visit(app_url, "/schedules/new")
    expect(page.locator("#f-name")).to_be_visible()
    go(page, app_url, f"/schedules/{schedule_id}/edit")
    expect(page.locator("#f-name")).to_have_value("nightly under csp")
    watched.assert_no_violation()
    assert any(url.startswith("ws://127.0.0.1") for url in watched.requests)
    assert watched.foreign_requests() == []


def test_docs_renders_swagger_ui_from_this_origin_only(watched, app_url):
    headers = watched.visit(app_url, "/docs")
    assert "'unsafe-eval'" not in policy_of(headers)["script-src"]
    expect(watched.page.locator(".opblock").first).to_be_visible()
    assert watched.page.locator(".opblock").count() > 20
    watched.assert_no_violation()
    assert watched.foreign_requests() == []
