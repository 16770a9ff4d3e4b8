"""Workspaces in a real browser: the switcher in the sidebar, an invitation
accepted right after sign-up, a viewer's disabled buttons and why, and the
audit log showing a change made just before."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.app import DESKTOP
from tests.e2e.helpers import TIMEOUT_MS, create_schedule, go, pick, shoot, toast

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OWNER = "ws-owner@example.com"
VIEWER = "ws-viewer@example.com"
PASSWORD = "correct horse battery"
TEAM = "Platform team"
UNUSED_URL = "http://127.0.0.1:9/hook"  # nothing fires within the test: every 12 hours


def new_page(browser) -> Page:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


@pytest.fixture(scope="module")
def owner(browser) -> Page:
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def viewer(browser) -> Page:
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def invitation(owner) -> dict[str, str]:
    """Filled by the invite test, read by the accept test."""
    return {}


def sign_up(page: Page, email: str) -> None:
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    toast(page, "Account created")


def switcher(page: Page):
    return page.locator("#workspace-switcher")


def switch_to(page: Page, name: str) -> None:
    switcher(page).click()
    page.locator(".workspace-option").filter(has_text=name).click()
    expect(switcher(page)).to_contain_text(name)
    page.wait_for_load_state("networkidle")


def schedule_names(page: Page):
    return page.locator("table a").filter(has_text=re.compile(r"ping$"))


def test_the_switcher_shows_the_workspace_and_switching_changes_the_schedules(
    owner, app_url, screenshots
):
    go(owner, app_url, "/signup")
    sign_up(owner, OWNER)
    expect(switcher(owner)).to_contain_text("owner")
    personal = switcher(owner).inner_text().splitlines()[0]
    create_schedule(owner, app_url, name="personal ping", url=UNUSED_URL, every="12", unit="hours")

    go(owner, app_url, "/schedules")
    switcher(owner).click()
    owner.locator("#open-create-workspace").click()
    owner.fill("#new-workspace-name", TEAM)
    owner.click("#create-workspace")
    expect(switcher(owner)).to_contain_text(TEAM)
    expect(owner.get_by_text("personal ping")).to_have_count(0)
    create_schedule(owner, app_url, name="team ping", url=UNUSED_URL, every="12", unit="hours")

    go(owner, app_url, "/schedules")
    expect(owner.get_by_text("team ping")).to_be_visible()
    expect(owner.get_by_text("personal ping")).to_have_count(0)
    switch_to(owner, personal)
    expect(owner.get_by_text("personal ping")).to_be_visible()
    expect(owner.get_by_text("team ping")).to_have_count(0)
    switch_to(owner, TEAM)
    expect(owner.get_by_text("team ping")).to_be_visible()
    expect(owner.get_by_text("personal ping")).to_have_count(0)

    switcher(owner).click()
    expect(owner.locator(".workspace-option")).to_have_count(2)
    shoot(owner, screenshots, "workspace-switcher")
    owner.keyboard.press("Escape")


def test_an_admin_invites_with_a_link_shown_once(owner, app_url, screenshots, invitation):
    go(owner, app_url, "/members")
    expect(switcher(owner)).to_contain_text(TEAM)
    expect(owner.locator(".member-row")).to_have_count(1)
    owner.fill("#invite-email", VIEWER)
    pick(owner, "#invite-role", "viewer")
    owner.click("#send-invite")
    toast(owner, f"Invitation for {VIEWER} created")
    link = owner.locator("#invite-link").inner_text()
    assert re.search(r"/invite\?token=\S+$", link)
    invitation["link"] = link if link.startswith("http") else app_url + link
    expect(owner.get_by_text("Open invitations")).to_be_visible()
    shoot(owner, screenshots, "members")


def test_the_invited_person_signs_up_and_lands_on_the_invitation(viewer, app_url, invitation):
    viewer.goto(invitation["link"])
    viewer.wait_for_url(re.compile(r"/login/?\?next=%2Finvite(%2F)?%3Ftoken%3D"))
    viewer.get_by_role("link", name="Sign up").click()
    viewer.wait_for_url(re.compile(r"/signup/?\?next=%2Finvite"))
    sign_up(viewer, VIEWER)
    viewer.wait_for_url(re.compile(r"/invite/?\?token="))
    viewer.click("#accept-invite")
    toast(viewer, f"You joined {TEAM} as viewer")
    viewer.wait_for_url(re.compile(r"/$"))
    expect(switcher(viewer)).to_contain_text(TEAM)
    expect(switcher(viewer)).to_contain_text("viewer")

    go(viewer, app_url, "/members")
    expect(viewer.locator(".member-row")).to_have_count(2)


def test_a_viewer_sees_disabled_buttons_and_why(viewer, app_url):
    go(viewer, app_url, "/schedules")
    expect(viewer.get_by_text("team ping")).to_be_visible()
    new_schedule = viewer.locator("#new-schedule")
    expect(new_schedule).to_be_disabled()
    viewer.locator(".denied").filter(has=new_schedule).hover()
    expect(viewer.get_by_role("tooltip")).to_contain_text("needs the editor role (yours is viewer)")
    expect(viewer.get_by_role("button", name="Pause team ping")).to_be_disabled()

    go(viewer, app_url, "/members")
    expect(viewer.locator("#send-invite")).to_be_disabled()
    viewer.locator(".denied").filter(has=viewer.locator("#send-invite")).hover()
    expect(viewer.get_by_role("tooltip")).to_contain_text("needs the admin role (yours is viewer)")

    go(viewer, app_url, "/audit")
    expect(viewer.locator("#audit-denied")).to_contain_text("needs the admin role")


def test_the_audit_log_lists_a_change_made_just_before(owner, app_url, screenshots):
    go(owner, app_url, "/schedules")
    owner.get_by_role("button", name="Pause team ping").click()
    toast(owner, "Paused team ping")

    go(owner, app_url, "/audit")
    newest = owner.locator(".audit-row").first
    expect(newest).to_have_attribute("data-action", "schedule.pause")
    expect(newest).to_contain_text(OWNER)
    expect(newest).to_contain_text("127.0.0.1")  # where the dashboard's event came from
    expect(owner.locator(".audit-row[data-action='member.accept']")).to_have_count(1)

    owner.fill("#audit-action", "member.")
    owner.click("#audit-filter")
    expect(owner.locator(".audit-row[data-action='schedule.pause']")).to_have_count(0)
    expect(owner.locator(".audit-row[data-action='member.accept']")).to_have_count(1)
    owner.fill("#audit-action", "")
    owner.click("#audit-filter")
    expect(owner.locator(".audit-row").first).to_have_attribute("data-action", "schedule.pause")
    shoot(owner, screenshots, "audit-log")
