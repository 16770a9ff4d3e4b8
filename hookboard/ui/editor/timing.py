"""The editor's "When" section: schedule kind, timing fields, time zone and live preview."""

from __future__ import annotations

import reflex as rx

from hookboard.domain.limits import INTERVAL_UNITS, SCHEDULE_KINDS
from hookboard.ui.components.widgets import field
from hookboard.ui.editor.controls import choice, field_error, grid, section, text_input
from hookboard.ui.editor.form import TIME_ZONES
from hookboard.ui.editor.state import EditorState as S


def timezone_picker() -> rx.Component:
    """A text input with a datalist: type to search the IANA zones, pick with the keyboard."""
    control = rx.fragment(
        rx.input(
            id="f-timezone",
            value=S.form["timezone"].to(str),
            on_change=lambda value: S.set_field("timezone", value),
            list="time-zones",
            placeholder="Europe/Berlin",
            auto_complete="off",
        ),
        rx.el.datalist(*[rx.el.option(value=zone) for zone in TIME_ZONES], id="time-zones"),
    )
    return field(
        "Time zone",
        control,
        error=field_error("timezone"),
        hint="Type to search, e.g. 'Berlin'.",
        html_for="f-timezone",
    )


def preview() -> rx.Component:
    return rx.box(
        rx.cond(
            S.preview_words != "",
            rx.vstack(
                rx.hstack(
                    rx.icon("calendar-clock", size=16),
                    rx.text(S.preview_words, weight="medium", id="preview-words"),
                ),
                rx.text("Next 5 firings:", size="2", color_scheme="gray"),
                rx.el.ol(
                    rx.foreach(
                        S.preview_next, lambda instant: rx.el.li(rx.text(instant, size="2"))
                    ),
                    id="preview-next",
                    style={"margin": 0, "padding_left": "20px"},
                ),
                spacing="2",
            ),
            rx.text("Fix the timing to see when it fires.", color_scheme="gray", size="2"),
        ),
        padding="12px",
        border_radius="8px",
        background=rx.color("accent", 2),
        border=f"1px solid {rx.color('accent', 5)}",
        width="100%",
        aria_live="polite",
    )


def timing_section() -> rx.Component:
    kind = S.form["kind"].to(str)
    return section(
        "When",
        rx.vstack(
            rx.text("Kind", size="2", weight="medium", id="kind-label"),
            rx.segmented_control.root(
                *[rx.segmented_control.item(k.capitalize(), value=k) for k in SCHEDULE_KINDS],
                value=kind,
                on_change=lambda value: S.set_field("kind", value),
                aria_labelledby="kind-label",
                id="f-kind",
            ),
            spacing="1",
        ),
        rx.match(
            kind,
            (
                "cron",
                text_input(
                    "cron",
                    "Cron expression",
                    hint="minute hour day month weekday [second]",
                    font_family="monospace",
                ),
            ),
            (
                "once",
                text_input(
                    "run_at", "Run at (local time in the zone)", type="datetime-local", step="1"
                ),
            ),
            grid(
                text_input("every", "Every", type="number", min=1),
                choice("unit", "Unit", [(unit, unit) for unit in INTERVAL_UNITS]),
            ),
        ),
        grid(timezone_picker()),
        grid(
            text_input(
                "starts_at",
                "Starts at",
                type="datetime-local",
                step="1",
                hint="Optional; required for a window.",
            ),
            text_input(
                "ends_at",
                "Ends at",
                type="datetime-local",
                step="1",
                hint="Optional; required for a window.",
            ),
        ),
        preview(),
    )
