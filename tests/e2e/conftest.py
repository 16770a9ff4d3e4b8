"""End-to-end fixtures: Hookboard started exactly as the README starts it
(`bash scripts/run.sh`, with its own Redis and a fresh SQLite file), and
Debian's Chromium driven by Playwright.

The app starts once for the whole e2e package; the first start compiles the
frontend, later ones reuse the build. Webhooks go only to receivers on
127.0.0.1, which the settings here allow (ALLOW_PRIVATE_TARGETS).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.app import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, start_app, stop_app


@pytest.fixture(scope="package")
def app_url(tmp_path_factory) -> Iterator[str]:
    process, url, _ = start_app(tmp_path_factory.mktemp("e2e-data"))
    try:
        yield url
    finally:
        stop_app(process)


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: scripts/ensure_chromium.sh installs it (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
