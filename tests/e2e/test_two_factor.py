"""Two-factor login in a real browser: set it up on the Security page (QR code,
first code, recovery codes shown once), then log in with a password and a code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.app import DESKTOP
from tests.e2e.helpers import TIMEOUT_MS, go, shoot, toast

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "e2e-2fa@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def page(browser) -> Page:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def fresh_step() -> float:
    """Now, or the start of the next 30 s step when this one is about to end."""
    if time.time() % 30 > 24:
        time.sleep(30 - time.time() % 30 + 0.1)
    return time.time()


def test_set_up_two_factor_login_then_log_in_with_a_code(page, app_url, screenshots):
    go(page, app_url, "/signup")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    toast(page, "Account created")

    go(page, app_url, "/security")
    page.click("#totp-setup")
    expect(page.locator("#totp-qr")).to_have_attribute("src", re.compile(r"^data:image/svg"))
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    shoot(page, screenshots, "security-2fa-setup")
    now = fresh_step()
    page.fill("#confirm-code", totp.at(now))
    page.press("#confirm-code", "Enter")
    toast(page, "Two-factor login is on")
    expect(page.locator("#recovery-codes code")).to_have_count(10)
    expect(page.locator("#totp-on")).to_be_visible()
    expect(page.locator("#sessions")).to_contain_text("127.0.0.1")

    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    expect(page.get_by_text("Two-factor code")).to_be_visible()
    page.fill("#code", totp.at(now))  # the code the setup used: refused
    page.press("#code", "Enter")
    toast(page, "already used")
    page.fill("#code", totp.at(now + 30))
    page.press("#code", "Enter")
    page.wait_for_url(re.compile(r"/$"))
    toast(page, "Welcome back")
