"""Small page helpers shared by the end-to-end tests."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

TIMEOUT_MS = 15_000


def toast(page: Page, text: str | re.Pattern) -> None:
    """Every action answers with a toast; wait for this one."""
    expect(page.locator("[data-sonner-toast]").filter(has_text=text).first).to_be_visible(
        timeout=TIMEOUT_MS
    )


def go(page: Page, base: str, path: str) -> None:
    page.goto(base + path)
    page.wait_for_load_state("networkidle")


def shoot(page: Page, directory: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def pick(page: Page, trigger: str, option: str) -> None:
    """Choose in a Radix select: open it, then click the option by its text."""
    page.click(trigger)
    page.get_by_role("option", name=option, exact=True).click()


def create_schedule(
    page: Page,
    base: str,
    *,
    name: str,
    url: str,
    every: str,
    unit: str,
    max_attempts: str = "3",
    base_delay: str = "10",
    backoff: str = "Exponential",
) -> int:
    """Fill the editor for an interval schedule, save, and return the new schedule's id."""
    go(page, base, "/schedules/new")
    page.fill("#f-name", name)
    page.get_by_role("radio", name="Interval").click()
    page.fill("#f-every", every)
    pick(page, "#f-unit", unit)
    page.fill("#f-url", url)
    page.fill("#f-max_attempts", max_attempts)
    page.fill("#f-base_delay_seconds", base_delay)
    pick(page, "#f-backoff", backoff)
    page.click("#save-schedule")
    page.wait_for_url(re.compile(r"/schedules/\d+/?$"), timeout=TIMEOUT_MS)
    toast(page, "Schedule created")
    return int(re.search(r"/schedules/(\d+)", page.url).group(1))
