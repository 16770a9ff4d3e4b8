"""A real dashboard login in Chromium, and where Reflex kept that tab's state.

Shared by the tests that start the app in development (`reflex run`) and in
production (`scripts/run.sh`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from redis import Redis

from tests.e2e.app import CHROMIUM, CHROMIUM_ARGS
from tests.support.processes import PROJECT_ROOT

PAGE_TIMEOUT_MS = 60_000  # a development server compiles a page on its first visit
DISK_STATES = PROJECT_ROOT / ".states"  # where Reflex's disk state manager writes


def log_in_through_the_dashboard(base_url: str, email: str, password: str) -> None:
    """Open a signed-in page, get sent to the login form, log in, land back there.

    Each step is a round trip over Reflex's websocket, so this passes only when
    the page reaches the backend (no "Connection Error")."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: scripts/ensure_chromium.sh installs it (as root)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(f"{base_url}/settings")
            page.wait_for_url(re.compile(r"/login/?\?next=%2Fsettings"))
            page.fill("#email", email)
            page.fill("#password", password)
            page.press("#password", "Enter")
            page.wait_for_url(re.compile(r"/settings/?$"))
            expect(page.get_by_text(email)).to_be_visible()
            expect(page.get_by_text("Connection Error")).to_have_count(0)
        finally:
            browser.close()


def disk_state_files() -> set[Path]:
    return set(DISK_STATES.glob("*.pkl")) if DISK_STATES.exists() else set()


def reflex_state_keys(redis_url: str) -> list[str]:
    """Reflex's per-tab state keys: `<client token>_<state path>` (see
    reflex/istate/manager/token.py). Hookboard's own keys are `rq:*` and
    `<QUEUE_NAME>:*`, so the two sets cannot meet."""
    client = Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in client.scan_iter(match="*_reflex___state____state*")]
    finally:
        client.close()
    return keys
