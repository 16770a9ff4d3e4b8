"""The schedule editor page (new and edit): name, then timing, request and policy sections."""

from __future__ import annotations

import reflex as rx

from hookboard.ui import routes
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import guarded
from hookboard.ui.editor.controls import section, text_input
from hookboard.ui.editor.policy import policy_section
from hookboard.ui.editor.request import request_section
from hookboard.ui.editor.state import EditorState as S
from hookboard.ui.editor.timing import timing_section
from hookboard.ui.state import AuthState


def editor(title: str) -> rx.Component:
    return page(
        title,
        rx.form(
            rx.vstack(
                section(
                    "Name", text_input("name", "Name", placeholder="Nightly report", required=True)
                ),
                timing_section(),
                request_section(),
                policy_section(),
                rx.hstack(
                    rx.link(
                        rx.button("Cancel", variant="soft", color_scheme="gray", type="button"),
                        href=routes.SCHEDULES,
                    ),
                    guarded(
                        rx.button(
                            rx.icon("save", size=16),
                            "Save schedule",
                            type="submit",
                            loading=S.saving,
                            id="save-schedule",
                        ),
                        AuthState.deny_write,
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=lambda _: S.save(),
            width="100%",
        ),
    )


def new_view() -> rx.Component:
    return editor("New schedule")


def edit_view() -> rx.Component:
    return editor("Edit schedule")
