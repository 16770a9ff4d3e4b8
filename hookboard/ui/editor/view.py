"""The schedule editor (new and edit): timing with live preview, request, retries, policies."""

from __future__ import annotations

import reflex as rx

from hookboard.domain.schedules import UNITS
from hookboard.domain.templating import VARIABLES
from hookboard.services import HTTP_METHODS, MAX_AUTO_PAUSE_AFTER
from hookboard.ui import routes
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import field
from hookboard.ui.editor.form import NO_TARGET, TIME_ZONES
from hookboard.ui.editor.state import EditorState, error_key

S = EditorState
KINDS = (("cron", "Cron"), ("interval", "Interval"), ("once", "Once"), ("window", "Window"))


def _error(name: str) -> rx.Var:
    return S.errors[error_key(name)]


def text_input(name: str, label: str, *, hint: str = "", **props) -> rx.Component:
    control = rx.input(
        id=f"f-{name}",
        value=S.form[name].to(str),
        on_change=lambda value: S.set_field(name, value),
        aria_invalid=rx.cond(_error(name) != "", "true", "false"),
        **props,
    )
    return field(label, control, error=_error(name), hint=hint, html_for=f"f-{name}")


def choice(name: str, label: str, options: list[tuple[str, str]] | tuple) -> rx.Component:
    items = [rx.select.item(text, value=value) for value, text in options]
    control = rx.select.root(
        rx.select.trigger(id=f"f-{name}", width="100%"),
        rx.select.content(*items),
        value=S.form[name].to(str),
        on_change=lambda value: S.set_field(name, value),
    )
    return field(label, control, error=_error(name), html_for=f"f-{name}")


def switch(name: str, label: str) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(
                checked=S.form[name].to(bool),
                on_change=lambda value: S.set_field(name, value),
                id=f"f-{name}",
            ),
            rx.text(label, size="2"),
            align="center",
        ),
        html_for=f"f-{name}",
    )


def section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="4", width="100%"),
        width="100%",
    )


def grid(*children: rx.Component, columns: str = "2") -> rx.Component:
    return rx.grid(
        *children, columns=rx.breakpoints(initial="1", md=columns), spacing="4", width="100%"
    )


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
        error=_error("timezone"),
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
                *[rx.segmented_control.item(text, value=value) for value, text in KINDS],
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
                choice("unit", "Unit", [(unit, unit) for unit in UNITS]),
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


def header_row(row: rx.Var, index: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.input(
            value=row["name"],
            placeholder="Header name",
            on_change=lambda value: S.set_header(index, "name", value),
            aria_label="Header name",
            flex="1",
        ),
        rx.input(
            value=row["value"],
            placeholder="Value",
            on_change=lambda value: S.set_header(index, "value", value),
            aria_label="Header value",
            flex="2",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            variant="ghost",
            color_scheme="gray",
            on_click=S.remove_header(index),
            aria_label="Remove header",
        ),
        width="100%",
    )


def headers_editor() -> rx.Component:
    control = rx.vstack(
        rx.foreach(S.form["headers"].to(list[dict[str, str]]), header_row),
        rx.button(
            rx.icon("plus", size=14),
            "Add header",
            variant="soft",
            size="1",
            on_click=S.add_header,
            type="button",
        ),
        width="100%",
    )
    return field(
        "Headers",
        control,
        error=_error("headers"),
        hint="Secret values (Authorization, tokens) are masked once saved.",
    )


def body_editor() -> rx.Component:
    control = rx.vstack(
        rx.text_area(
            id="f-body",
            value=S.form["body"].to(str),
            on_change=lambda value: S.set_field("body", value),
            rows="6",
            font_family="monospace",
            placeholder='{"event": "tick"}',
            width="100%",
        ),
        rx.cond(
            S.body_message != "",
            rx.text(
                S.body_message,
                size="1",
                color_scheme=rx.cond(S.body_ok, "green", "red"),
                id="body-check",
            ),
        ),
        width="100%",
        spacing="1",
    )
    return field("Body", control, error=_error("body"), html_for="f-body")


def target_picker() -> rx.Component:
    control = rx.select.root(
        rx.select.trigger(id="f-target_id", width="100%"),
        rx.select.content(
            rx.select.item("No saved target: the request below", value=NO_TARGET),
            rx.foreach(S.targets, lambda t: rx.select.item(t["name"], value=t["id"])),
        ),
        value=S.form["target_id"].to(str),
        on_change=lambda value: S.set_field("target_id", value),
    )
    return field(
        "Saved target",
        control,
        error=_error("target_id"),
        html_for="f-target_id",
        hint="With a target, fields filled below override the target's.",
    )


def test_result() -> rx.Component:
    result = S.test_result
    return rx.cond(
        result.contains("status"),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.badge(
                        result["error_class"].to(str),
                        color_scheme=rx.cond(result["ok"].to(bool), "green", "red"),
                    ),
                    rx.text("Status ", rx.code(result["status"].to(str)), size="2"),
                    rx.text("Latency ", result["latency"].to(str), size="2"),
                    wrap="wrap",
                ),
                rx.cond(
                    result["error_message"].to(str) != "",
                    rx.text(result["error_message"].to(str), color_scheme="red", size="2"),
                ),
                rx.el.pre(result["headers"].to(str), class_name="hb-pre"),
                rx.el.pre(result["body"].to(str), class_name="hb-pre"),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="test-result",
        ),
    )


def template_help() -> rx.Component:
    """The template variables, right beside the fields that take them."""
    return rx.hstack(
        rx.icon("braces", size=14, color=rx.color("gray", 10)),
        rx.text(
            "In the URL's path and query, header values and the body, ",
            *[rx.fragment(rx.code("{{" + name + "}}", size="1"), " ") for name in VARIABLES],
            "are filled in for every attempt (scheduled_for in ISO 8601 UTC, attempt from 1); ",
            rx.code("\\{{", size="1"),
            " sends a literal ",
            rx.code("{{", size="1"),
            ".",
            size="1",
            color_scheme="gray",
        ),
        align="start",
        spacing="2",
        id="template-help",
    )


def request_section() -> rx.Component:
    return section(
        "Request",
        target_picker(),
        grid(
            choice("method", "Method", [(m, m) for m in HTTP_METHODS]),
            text_input("url", "URL", placeholder="https://example.com/hook", type="url"),
            columns="2",
        ),
        template_help(),
        headers_editor(),
        body_editor(),
        grid(
            text_input("timeout_seconds", "Timeout (seconds)", type="number", min=1, max=1800),
            rx.box(switch("follow_redirects", "Follow redirects"), padding_top="24px"),
        ),
        rx.hstack(
            rx.button(
                rx.icon("send", size=14),
                "Send test request",
                variant="outline",
                on_click=S.send_test,
                loading=S.testing,
                type="button",
            ),
            rx.text(
                "Sends one real, signed request now; nothing is recorded.",
                size="1",
                color_scheme="gray",
            ),
            align="center",
            wrap="wrap",
        ),
        test_result(),
    )


def policy_section() -> rx.Component:
    return section(
        "Retries and policies",
        grid(
            text_input("max_attempts", "Max attempts", type="number", min=1, max=20),
            choice(
                "backoff",
                "Backoff",
                [("fixed", "Fixed"), ("linear", "Linear"), ("exponential", "Exponential")],
            ),
            text_input("base_delay_seconds", "Base delay (s)", type="number", min=0),
            text_input("max_delay_seconds", "Max delay (s)", type="number", min=0),
            columns="4",
        ),
        switch("jitter", "Jitter (spread each delay over [d/2, d])"),
        grid(
            text_input(
                "auto_pause_after",
                "Auto-pause after N failed runs in a row",
                type="number",
                min=0,
                max=MAX_AUTO_PAUSE_AFTER,
                hint="0 = never. Resuming starts the count over; alerts tell you either way.",
            ),
            rx.vstack(
                switch("badge", "Public status badge"),
                rx.text(
                    "A public SVG (passing, failing, paused) for a README or status page; "
                    "turning it off retires its URL.",
                    size="1",
                    color_scheme="gray",
                ),
                padding_top="24px",
                spacing="1",
            ),
        ),
        grid(
            choice(
                "misfire",
                "After downtime (misfire)",
                [("coalesce", "Coalesce: one run for all missed"), ("skip", "Skip missed firings")],
            ),
            choice(
                "overlap",
                "While the previous run is in flight",
                [("skip", "Skip this firing"), ("allow", "Send anyway")],
            ),
        ),
    )


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
                    rx.button(
                        rx.icon("save", size=16),
                        "Save schedule",
                        type="submit",
                        loading=S.saving,
                        id="save-schedule",
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
