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


MAX_SHOT_HEIGHT = 2400
HIDE_TOASTS = "[data-sonner-toaster] { display: none !important; }"


def shoot(page: Page, directory: Path, name: str) -> None:
    """The whole page as a user would see it on a tall screen.

    A full-page capture of a scrolled page paints the sticky sidebar and top
    bar where the viewport happened to be; instead the viewport grows to the
    page's height (so 100vh and sticky elements lay out as on that screen),
    from the top, and is put back afterwards."""
    page.wait_for_load_state("networkidle")
    viewport = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")
    height = page.evaluate("document.documentElement.scrollHeight")
    tall = {
        "width": viewport["width"],
        "height": min(max(height, viewport["height"]), MAX_SHOT_HEIGHT),
    }
    page.set_viewport_size(tall)
    try:
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        # Toasts of earlier steps would cover whatever sits in the corner.
        page.screenshot(path=str(directory / f"{name}.png"), style=HIDE_TOASTS)
    finally:
        page.set_viewport_size(viewport)


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
    auto_pause_after: str | None = None,
    badge: bool = False,
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
    if auto_pause_after is not None:
        page.fill("#f-auto_pause_after", auto_pause_after)
    if badge:
        page.click("#f-badge")
    page.click("#save-schedule")
    page.wait_for_url(re.compile(r"/schedules/\d+/?$"), timeout=TIMEOUT_MS)
    toast(page, "Schedule created")
    return int(re.search(r"/schedules/(\d+)", page.url).group(1))
