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
from tests.e2e.state_tree import USER_LIMIT, clear_caches
from tests.support.processes import free_port


@pytest.fixture(scope="package")
def running_app(tmp_path_factory) -> Iterator[tuple[str, Path, str]]:
    """(URL, DATA_DIR, REDIS_URL) of the one app of the package. One only: each
    start rebuilds the frontend for its own port, and an app started after this
    one would leave this one's pages talking to a port where nothing answers."""
    data_dir = tmp_path_factory.mktemp("e2e") / "data"  # created by the app itself
    redis_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing there: run.sh starts one
    process, url, _ = start_app(data_dir, REDIS_URL=redis_url)
    try:
        yield url, data_dir, redis_url
    finally:
        stop_app(process)


@pytest.fixture(scope="package")
def app_url(running_app) -> str:
    return running_app[0]


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


@pytest.fixture
def app_settings(monkeypatch, engine, redis, redis_url) -> Iterator[None]:
    """The handlers' own engine, limiter and config, on the test database and Redis."""
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("USER_RATE_LIMIT_PER_MINUTE", str(USER_LIMIT))
    clear_caches()
    yield
    clear_caches()
