"""The dashboard in a real browser, against the app as `bash scripts/run.sh` starts it.

One user signs up once; the tests then run in file order as that user: an API
key, an interval schedule delivering to a receiver, pause/resume/run now, a
failing receiver with retries and a replay, delete, and a screenshot of every
page (desktop, 390 px wide, dark mode) into docs/screenshots/.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.app import DESKTOP, PHONE
from tests.e2e.helpers import TIMEOUT_MS, create_schedule, go, pick, shoot, toast
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "e2e@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def receiver():
    with Receiver(
        status=200, body=b'{"ok": true}', headers={"Content-Type": "application/json"}
    ) as rx:
        yield rx


@pytest.fixture(scope="module")
def failing_receiver():
    with Receiver(status=503, body=b"down for maintenance") as rx:
        yield rx


@pytest.fixture(scope="module")
def context(browser):
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def page(context) -> Page:
    return context.new_page()


def run_rows(page: Page, status: str):
    return page.locator(f"tr.run-row[data-status='{status}']")


def test_an_unauthenticated_visit_goes_to_log_in_and_comes_back_after_sign_up(
    page, app_url, screenshots
):
    go(page, app_url, "/keys")
    page.wait_for_url(re.compile(r"/login/?\?next=%2Fkeys"))
    shoot(page, screenshots, "login")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url(re.compile(r"/signup/?\?next="))
    page.fill("#email", EMAIL)
    page.fill("#password", "short")
    page.click("button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("at least 8 characters")
    page.fill("#password", PASSWORD)
    shoot(page, screenshots, "signup")
    page.press("#password", "Enter")  # forms work from the keyboard
    page.wait_for_url(re.compile(r"/keys/?$"))
    toast(page, "Account created")
    expect(page.get_by_text(EMAIL)).to_be_visible()


def test_log_out_and_log_in_again(page, app_url):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    toast(page, "Logged out")
    go(page, app_url, "/settings")
    page.wait_for_url(re.compile(r"/login/?\?next=%2Fsettings"))
    page.fill("#email", EMAIL)
    page.fill("#password", "wrong password")
    page.press("#password", "Enter")
    toast(page, "invalid email or password")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(r"/settings/?$"))


def test_an_api_key_is_shown_once_and_works(page, app_url, screenshots):
    go(page, app_url, "/keys")
    page.click("#new-key")
    page.fill("#key-name", "ci")
    page.click("#create-key")
    toast(page, "API key 'ci' created")
    key = page.locator("#created-key").inner_text()
    assert key.startswith("hbk_")
    shoot(page, screenshots, "api-key-created")
    answer = httpx.get(
        f"{app_url}/api/v1/schedules", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    page.click("#key-done")
    expect(page.locator("#created-key")).to_have_count(0)
    expect(page.locator("tr.key-row")).to_have_count(1)
    assert key not in page.content()
    page.click("#new-key")  # a new dialog never shows the old key again
    expect(page.locator("#key-name")).to_have_value("")
    assert key not in page.content()
    page.keyboard.press("Escape")
    shoot(page, screenshots, "api-keys")


def test_the_cron_field_is_checked_as_you_type(page, app_url, screenshots):
    go(page, app_url, "/schedules/new")
    page.fill("#f-cron", "61 * * * *")
    expect(page.locator(".field-error").first).to_contain_text("minute")
    page.fill("#f-cron", "0 2 * * *")
    page.fill("#f-timezone", "Europe/Berlin")
    expect(page.locator("#preview-words")).to_have_text("At 02:00, every day, Europe/Berlin")
    expect(page.locator("#preview-next li")).to_have_count(5)
    expect(page.locator("#preview-next")).to_contain_text("02:00:00 CE")
    page.fill("#f-body", '{"broken": ')
    expect(page.locator("#body-check")).to_contain_text("Invalid JSON")
    page.fill("#f-body", '{"event": "nightly"}')
    expect(page.locator("#body-check")).to_have_text("Valid JSON")
    shoot(page, screenshots, "schedule-editor")


def test_send_test_request_shows_the_response(page, app_url, receiver):
    page.fill("#f-url", receiver.url + "/test")
    before = receiver.request_count
    page.get_by_role("button", name="Send test request").click()
    expect(page.locator("#test-result")).to_contain_text("success", timeout=TIMEOUT_MS)
    expect(page.locator("#test-result")).to_contain_text('{"ok": true}')
    [*_, request] = receiver.wait_for(before + 1)
    assert request.path == "/test"
    assert request.headers["webhook-id"].startswith("test_")


def test_an_interval_schedule_delivers_and_its_runs_appear_without_a_reload(
    page, app_url, receiver, screenshots
):
    create_schedule(
        page, app_url, name="heartbeat", url=receiver.url + "/beat", every="2", unit="seconds"
    )
    go(page, app_url, "/logs")
    # No reload from here on: the live log fetches new runs by itself.
    expect(run_rows(page, "succeeded").nth(1)).to_be_visible(timeout=10_000)
    delivered = [r for r in receiver.requests if r.path == "/beat"]
    assert len(delivered) >= 2
    assert delivered[0].headers["webhook-signature"].startswith("v1,")
    expect(run_rows(page, "succeeded").first.locator(".run-status")).to_have_attribute(
        "data-accent-color", "green"
    )
    shoot(page, screenshots, "logs")


def _beats(receiver: Receiver) -> int:
    return sum(1 for r in list(receiver.requests) if r.path == "/beat")


def test_pause_stops_the_runs_and_resume_and_run_now_start_them(
    page, app_url, receiver, screenshots
):
    go(page, app_url, "/schedules")
    expect(page.locator("tr[data-schedule='heartbeat']")).to_be_visible()
    shoot(page, screenshots, "schedules")
    page.get_by_role("button", name="Pause heartbeat").click()
    toast(page, "Paused heartbeat")
    time.sleep(1)  # a delivery already in flight may still land
    paused_at = _beats(receiver)
    time.sleep(5)  # two and a half intervals: proving an absence takes waiting
    assert _beats(receiver) == paused_at

    before = receiver.request_count
    page.get_by_role("button", name="Run heartbeat now").click()
    toast(page, re.compile(r"Run \d+ queued"))
    receiver.wait_for(before + 1)
    assert _beats(receiver) == paused_at + 1

    page.get_by_role("button", name="Resume heartbeat").click()
    toast(page, "Resumed heartbeat")
    deadline = time.monotonic() + 10
    while _beats(receiver) < paused_at + 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _beats(receiver) >= paused_at + 3
    page.get_by_role("button", name="Pause heartbeat").click()
    toast(page, "Paused heartbeat")


def test_a_failing_receiver_shows_red_badges_retries_attempts_and_a_replay(
    page, app_url, failing_receiver, screenshots
):
    schedule_id = create_schedule(
        page,
        app_url,
        name="flaky",
        url=failing_receiver.url + "/fail",
        every="1",
        unit="hours",
        max_attempts="2",
        base_delay="1",
        backoff="Fixed",
    )
    # An interval fires at its start: the first run is on its way already.
    failing_receiver.wait_for(2, timeout=30)
    go(page, app_url, f"/logs?schedule={schedule_id}")
    expect(run_rows(page, "failed").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(run_rows(page, "failed").first.locator(".run-status")).to_have_attribute(
        "data-accent-color", "red"
    )
    run_rows(page, "failed").first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/runs/\d+"))
    expect(page.locator(".attempt")).to_have_count(2)
    expect(page.locator(".attempt-class").first).to_have_text("http_5xx")
    expect(page.locator(".attempt").first).to_contain_text("503")
    expect(page.locator(".attempt").first).to_contain_text("down for maintenance")
    shoot(page, screenshots, "run-failed")

    failing_receiver.set_response(status=200, body=b"back")
    page.click("#replay")
    toast(page, re.compile(r"replayed"))
    deadline = time.monotonic() + 20
    while page.locator(".attempt").count() < 3 and time.monotonic() < deadline:
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
    expect(page.locator(".attempt")).to_have_count(3)
    expect(page.locator(".attempt-class").first).to_have_text("success")
    shoot(page, screenshots, "run-replayed")
    go(page, app_url, "/")
    expect(page.locator("#stat-runs")).not_to_have_text("0")
    shoot(page, screenshots, "overview")
    go(page, app_url, f"/schedules/{schedule_id}")
    expect(page.get_by_text("Latency and outcome")).to_be_visible()
    shoot(page, screenshots, "schedule-detail")


def test_the_logs_filter_by_status(page, app_url):
    go(page, app_url, "/logs")
    pick(page, "#filter-status", "succeeded")
    expect(run_rows(page, "succeeded").first).to_be_visible()
    expect(page.locator("tr.run-row:not([data-status='succeeded'])")).to_have_count(0)


def test_targets_create_list_and_delete(page, app_url, receiver, screenshots):
    go(page, app_url, "/targets")
    page.click("#new-target")
    page.fill("#t-name", "billing")
    page.fill("#t-url", "ftp://nope")
    page.click("#save-target")
    expect(page.locator(".field-error")).to_contain_text("http")
    page.fill("#t-url", receiver.url + "/billing")
    page.fill("#t-headers", "Authorization: Bearer s3cret")
    page.click("#save-target")
    toast(page, "Target 'billing' saved")
    expect(page.get_by_text("Not used by any schedule")).to_be_visible()
    assert "s3cret" not in page.content()
    shoot(page, screenshots, "targets")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    toast(page, "Target deleted")


def test_settings_reveal_and_rotate_the_signing_secret(page, app_url, screenshots):
    go(page, app_url, "/settings")
    expect(page.locator("#signing-secret")).not_to_contain_text("whsec_A")
    page.click("#reveal-secret")
    expect(page.locator("#signing-secret")).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]{20,}"))
    first = page.locator("#signing-secret").inner_text()
    page.click("#rotate-secret")
    page.get_by_role("alertdialog").get_by_role("button", name="Rotate").click()
    toast(page, "Secret rotated")
    expect(page.locator("#signing-secret")).not_to_have_text(first)
    expect(page.get_by_text("still signs until")).to_be_visible()
    page.click("#reveal-secret")  # hidden again before the screenshot
    shoot(page, screenshots, "settings")


def test_editing_a_schedule_keeps_its_fields_and_saves_the_change(page, app_url):
    go(page, app_url, "/schedules")
    page.get_by_role("button", name="Edit heartbeat").click()
    page.wait_for_url(re.compile(r"/schedules/\d+/edit"))
    expect(page.locator("#f-name")).to_have_value("heartbeat")
    expect(page.locator("#f-every")).to_have_value("2")
    expect(page.locator("#preview-words")).to_have_text("Every 2 seconds")
    page.fill("#f-every", "3")
    expect(page.locator("#preview-words")).to_have_text("Every 3 seconds")
    page.click("#save-schedule")
    toast(page, "Schedule updated")
    expect(page.get_by_text("Every 3 seconds")).to_be_visible()
    expect(page.get_by_text("paused", exact=True).first).to_be_visible()  # still paused


def test_delete_a_schedule_after_confirming(page, app_url):
    go(page, app_url, "/schedules")
    page.get_by_role("button", name="Delete flaky").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()
    expect(page.locator("tr[data-schedule='flaky']")).to_be_visible()
    page.get_by_role("button", name="Delete flaky").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    toast(page, "Deleted flaky")
    expect(page.locator("tr[data-schedule='flaky']")).to_have_count(0)


def test_every_page_at_390_px_and_in_dark_mode(context, page, app_url, screenshots):
    go(page, app_url, "/")
    expect(page.locator("#stat-active")).to_have_text("0")  # heartbeat is paused
    phone = context.new_page()
    phone.set_viewport_size(PHONE)
    for path, name in (("/", "overview"), ("/logs", "logs"), ("/schedules", "schedules")):
        go(phone, app_url, path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways at 390 px ({width} px)"
        shoot(phone, screenshots, f"mobile-{name}")
    phone.get_by_role("button", name="Open the menu").click()
    phone.get_by_role("menuitem", name="Settings").click()
    phone.wait_for_url(re.compile(r"/settings"))
    phone.close()
    page.click("#color-mode-toggle")
    expect(page.locator("html")).to_have_class(re.compile("dark"))
    shoot(page, screenshots, "dark-overview")
    go(page, app_url, "/logs")
    shoot(page, screenshots, "dark-logs")
    page.click("#color-mode-toggle")
