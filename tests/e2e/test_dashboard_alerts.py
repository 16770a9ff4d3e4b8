"""Alerts, auto-pause, status badges, template variables and import/export in the
dashboard, in Chromium, against the app as `bash scripts/run.sh` starts it.

A second user of the same app signs up once; the tests run in file order as
that user. Screenshots of the new pages go to docs/screenshots/.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.app import DESKTOP
from tests.e2e.helpers import TIMEOUT_MS, create_schedule, go, shoot, toast
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "ops@example.com"
PASSWORD = "another long password"


@pytest.fixture(scope="module")
def alerts_receiver():
    with Receiver(status=204) as rx:
        yield rx


@pytest.fixture(scope="module")
def down_receiver():
    with Receiver(status=500, body=b"boom") as rx:
        yield rx


@pytest.fixture(scope="module")
def page(browser, app_url) -> Page:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    go(page, app_url, "/signup")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(r"/$"))
    toast(page, "Account created")
    expect(page.get_by_text(EMAIL)).to_be_visible()  # the session is in place
    yield page
    context.close()


def alerts_of(receiver: Receiver, event: str) -> list[dict]:
    bodies = [json.loads(r.body) for r in list(receiver.requests) if r.path == "/alerts"]
    return [body for body in bodies if body["hookboard"]["event"] == event]


def test_a_notification_channel_is_created_tested_disabled_and_deleted(
    page, app_url, alerts_receiver, down_receiver, screenshots
):
    go(page, app_url, "/notifications")
    expect(page.get_by_text("No notification channels")).to_be_visible()
    page.click("#new-channel")
    page.fill("#c-name", "ops hook")
    page.fill("#c-url", "ftp://nope")
    page.click("#save-channel")
    expect(page.locator(".field-error")).to_contain_text("http")
    page.fill("#c-url", alerts_receiver.url + "/alerts")
    page.click("#save-channel")
    toast(page, "Channel 'ops hook' created")

    page.get_by_role("button", name="Send a test alert to ops hook").click()
    toast(page, "Test alert delivered")
    [test_alert] = alerts_of(alerts_receiver, "test")
    assert "ops hook" in test_alert["text"]
    assert alerts_receiver.requests[-1].headers["webhook-signature"].startswith("v1,")

    # An email channel needs SMTP_HOST, which this server lacks: the error says so.
    page.click("#new-channel")
    page.fill("#c-name", "pager")
    page.get_by_role("radio", name="Email").click()
    expect(page.get_by_text("need the server's SMTP_HOST")).to_be_visible()
    page.fill("#c-email", "ops@example.com")
    page.click("#save-channel")
    expect(page.locator(".field-error")).to_contain_text("SMTP_HOST")
    page.get_by_role("radio", name="Webhook").click()
    page.fill("#c-url", down_receiver.url + "/alerts")
    page.click("#save-channel")
    toast(page, "Channel 'pager' created")
    page.get_by_role("button", name="Send a test alert to pager").click()
    toast(page, re.compile(r"Test alert failed: .*500"))

    page.get_by_role("switch", name="Alerts to pager enabled").click()
    toast(page, "pager disabled")
    expect(page.get_by_role("switch", name="Alerts to pager enabled")).not_to_be_checked()
    shoot(page, screenshots, "notifications")

    page.get_by_role("button", name="Delete pager").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    toast(page, "Channel deleted")
    expect(page.locator(".channel-row")).to_have_count(1)


def test_a_failing_schedule_pauses_itself_and_shows_why(
    page, app_url, alerts_receiver, down_receiver, screenshots
):
    schedule_id = create_schedule(
        page,
        app_url,
        name="fragile",
        url=down_receiver.url + "/fragile",
        every="1",
        unit="seconds",
        max_attempts="1",
        auto_pause_after="2",
    )
    # Two failed runs in a row pause it; the enabled channel hears about it.
    deadline_ms = 20_000
    go(page, app_url, "/schedules")
    row = page.locator("tr[data-schedule='fragile']")
    for _ in range(deadline_ms // 1000):
        if row.locator(".auto-paused").count():
            break
        page.wait_for_timeout(1000)
        go(page, app_url, "/schedules")
    expect(row.locator(".auto-paused")).to_be_visible()
    expect(row.locator(".failing-since")).to_contain_text("2 failed runs in a row")
    row.locator(".auto-paused").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("auto-paused after 2 failed runs")
    shoot(page, screenshots, "schedules-auto-paused")

    go(page, app_url, f"/schedules/{schedule_id}")
    expect(page.locator("#paused-reason")).to_contain_text(
        "auto-paused after 2 failed runs in a row (last: http_5xx (HTTP 500))"
    )
    expect(page.get_by_text("after 2 failed runs in a row", exact=True)).to_be_visible()
    shoot(page, screenshots, "schedule-auto-paused")
    # The test alert, the first failure (not the second: one per streak), the pause.
    alerts_receiver.wait_for(1 + 2, timeout=15)
    assert alerts_of(alerts_receiver, "auto_paused")
    assert len(alerts_of(alerts_receiver, "run_failed")) == 1

    page.get_by_role("button", name="Resume").click()
    toast(page, "Resumed fragile")
    expect(page.locator("#paused-reason")).to_have_count(0)
    page.get_by_role("button", name="Pause").click()
    toast(page, "Paused fragile")


def test_a_public_badge_shows_its_svg_url_and_markdown(page, app_url, screenshots):
    go(page, app_url, "/schedules")
    page.get_by_role("button", name="Edit fragile").click()
    page.wait_for_url(re.compile(r"/schedules/\d+/edit"))
    expect(page.locator("#f-auto_pause_after")).to_have_value("2")
    expect(page.locator("#f-badge")).not_to_be_checked()
    page.click("#f-badge")
    page.click("#save-schedule")
    toast(page, "Schedule updated")
    expect(page.locator("#badge-url")).to_have_text(
        re.compile(re.escape(app_url) + r"/api/v1/badges/[\w-]+\.svg$")
    )
    url = page.locator("#badge-url").inner_text()
    expect(page.locator("#badge-markdown")).to_have_text(f"![fragile: hookboard status]({url})")
    image = page.locator("#badge-image")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('#badge-image').naturalWidth > 0")
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert "paused" in answer.text
    page.get_by_role("button", name="Copy the markdown").click()
    toast(page, "Markdown copied")
    shoot(page, screenshots, "schedule-badge")


def test_template_variables_are_listed_and_filled_in_a_test_request(page, app_url):
    with Receiver() as receiver:
        go(page, app_url, "/schedules/new")
        expect(page.locator("#template-help")).to_contain_text("{{scheduled_for}}")
        expect(page.locator("#template-help")).to_contain_text("\\{{ sends a literal")
        page.fill("#f-url", receiver.url + "/t/{{run_id}}?try={{attempt}}")
        page.fill("#f-body", '{"at": "{{scheduled_for}}"}')
        page.get_by_role("button", name="Send test request").click()
        expect(page.locator("#test-result")).to_contain_text("success")
        [request] = receiver.wait_for(1)
    assert request.path == "/t/1?try=1"
    assert json.loads(request.body) == {"at": "2026-01-01T00:00:00Z"}


def test_export_then_import_a_dry_run_then_apply(page, app_url, screenshots):
    go(page, app_url, "/schedules")
    page.click("#export-schedules")
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Export (secret headers masked)").click()
    exported = download.value.path().read_text()
    document = json.loads(exported)
    assert [s["name"] for s in document["schedules"]] == ["fragile"]
    assert document["schedules"][0]["auto_pause_after"] == 2

    page.click("#import-schedules")
    page.fill("#import-json", exported)
    page.click("#import-check")
    expect(page.locator("#import-summary")).to_contain_text("no change")
    expect(page.locator("#import-apply")).to_be_disabled()

    page.fill("#import-json", "{not json")
    page.click("#import-check")
    expect(page.locator("#import-error")).to_contain_text("not JSON")

    copy = dict(document["schedules"][0], name="fragile copy", paused=True, badge=False)
    document["schedules"].append(copy)
    changed = json.dumps(document).encode()
    page.set_input_files(
        "#import-file input[type=file]",
        files=[{"name": "schedules.json", "mimeType": "application/json", "buffer": changed}],
    )
    expect(page.locator("#import-summary")).to_contain_text("1 to create")
    expect(page.locator("tr.import-row[data-action='create']")).to_contain_text("fragile copy")
    shoot(page, screenshots, "schedule-import")
    page.click("#import-apply")
    toast(page, "Imported: 1 created, 0 updated, 1 unchanged")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("tr[data-schedule='fragile copy']")).to_be_visible()


def test_the_notifications_page_at_390_px(page, app_url, screenshots):
    phone = page.context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    go(phone, app_url, "/notifications")
    expect(phone.locator(".channel-row")).to_have_count(1)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"/notifications scrolls sideways at 390 px ({width} px)"
    shoot(phone, screenshots, "mobile-notifications")
    phone.close()
