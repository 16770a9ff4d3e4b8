"""Newer / Older buttons of a keyset-paged table (logs, audit log)."""

from __future__ import annotations

import reflex as rx


def keyset_pager(
    *, on_newer, on_older, at_newest, at_oldest, newer_id: str, older_id: str
) -> rx.Component:
    """`at_newest` / `at_oldest`: Vars that disable the buttons at either end."""
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=14),
            "Newer",
            variant="soft",
            on_click=on_newer,
            disabled=at_newest,
            id=newer_id,
        ),
        rx.button(
            "Older",
            rx.icon("chevron-right", size=14),
            variant="soft",
            on_click=on_older,
            disabled=at_oldest,
            id=older_id,
        ),
        justify="end",
        width="100%",
    )
