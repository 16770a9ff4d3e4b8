"""The signed-in frame: a sidebar on wide screens, a menu on narrow ones, a top bar."""

from __future__ import annotations

import reflex as rx

from hookboard.ui import routes
from hookboard.ui.components.workspace_switcher import workspace_switcher
from hookboard.ui.state import AuthState

NAV = (
    ("Overview", routes.OVERVIEW, "layout-dashboard"),
    ("Schedules", routes.SCHEDULES, "calendar-clock"),
    ("Targets", routes.TARGETS, "crosshair"),
    ("Logs", routes.LOGS, "scroll-text"),
    ("Notifications", routes.NOTIFICATIONS, "bell"),
    ("API keys", routes.KEYS, "key-round"),
    ("Members", routes.MEMBERS, "users"),
    ("Audit log", routes.AUDIT, "history"),
    ("Settings", routes.SETTINGS, "settings"),
    ("Security", routes.SECURITY, "shield-check"),
)
WIDE = rx.breakpoints(initial="none", md="flex")
NARROW = rx.breakpoints(initial="flex", md="none")


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("webhook", size=22, color=rx.color("accent", 10)),
            rx.heading("Hookboard", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=routes.OVERVIEW,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
    )


def _active(href: str) -> rx.Var:
    path = AuthState.router.url.path
    if href == routes.OVERVIEW:
        return path == href
    return path.startswith(href)


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    active = _active(href)
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3"), align="center", spacing="3"),
        href=href,
        underline="none",
        padding_x="12px",
        padding_y="8px",
        border_radius="8px",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
        aria_current=rx.cond(active, "page", "false"),
    )


def sidebar() -> rx.Component:
    """Full height on the left; its links stay in view while the page scrolls."""
    links = rx.vstack(
        rx.box(brand(), padding_x="12px", padding_y="16px"),
        rx.box(workspace_switcher(), width="100%", padding_bottom="12px"),
        rx.vstack(*[nav_link(*item) for item in NAV], spacing="1", width="100%"),
        rx.spacer(),
        rx.link(
            rx.hstack(rx.icon("book-open", size=16), rx.text("API docs", size="2")),
            href="/docs",
            is_external=True,
            color_scheme="gray",
            padding="12px",
        ),
        height="100vh",
        position="sticky",
        top="0",
        padding="12px",
        as_="nav",
        aria_label="Main",
    )
    return rx.box(
        links,
        display=WIDE,
        width="220px",
        min_width="220px",
        align_self="stretch",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def mobile_menu() -> rx.Component:
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open the menu")
            ),
            rx.menu.content(
                *[
                    rx.menu.item(
                        rx.hstack(rx.icon(icon, size=16), rx.text(label)),
                        on_select=rx.redirect(href),
                    )
                    for label, href, icon in NAV
                ]
            ),
        ),
        display=NARROW,
    )


def color_mode_toggle() -> rx.Component:
    return rx.icon_button(
        rx.color_mode_cond(light=rx.icon("moon"), dark=rx.icon("sun")),
        on_click=rx.toggle_color_mode,
        variant="ghost",
        aria_label="Switch between light and dark mode",
        id="color-mode-toggle",
    )


def topbar() -> rx.Component:
    return rx.hstack(
        mobile_menu(),
        # Narrow screens: the workspace takes the brand's place (the menu holds the rest).
        rx.box(workspace_switcher("-narrow"), display=NARROW, min_width="0", max_width="170px"),
        rx.spacer(),
        rx.text(AuthState.email, size="2", color_scheme="gray", display=WIDE),
        color_mode_toggle(),
        rx.button(
            rx.icon("log-out", size=16),
            rx.text("Log out", display=WIDE),
            on_click=AuthState.logout,
            variant="soft",
            color_scheme="gray",
            aria_label="Log out",
        ),
        align="center",
        spacing="3",
        padding_x="20px",
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        position="sticky",
        top="0",
        z_index="10",
        background=rx.color("gray", 1),
    )


def page(title: str, *children: rx.Component, actions: rx.Component | None = None):
    """A signed-in page: frame, heading with optional actions, content."""
    heading = rx.hstack(
        rx.heading(title, size="7"),
        rx.spacer(),
        actions or rx.fragment(),
        align="center",
        width="100%",
        wrap="wrap",
        spacing="3",
    )
    return rx.hstack(
        sidebar(),
        rx.vstack(
            topbar(),
            rx.vstack(
                heading,
                *children,
                spacing="5",
                padding=rx.breakpoints(initial="16px", md="28px"),
                width="100%",
                max_width="1200px",
                as_="main",
            ),
            spacing="0",
            width="100%",
            min_width="0",
            align="center",
        ),
        spacing="0",
        width="100%",
        min_height="100vh",
        align="start",
    )
