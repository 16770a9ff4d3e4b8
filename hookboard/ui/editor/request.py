"""The editor's "Request" section: target, method, URL, headers, body and a test send."""

from __future__ import annotations

import reflex as rx

from hookboard.domain.limits import HTTP_METHODS
from hookboard.domain.templating import VARIABLES
from hookboard.ui.components.widgets import field, guarded
from hookboard.ui.editor.controls import (
    bounds,
    choice,
    field_error,
    grid,
    section,
    switch,
    text_input,
)
from hookboard.ui.editor.form import NO_TARGET
from hookboard.ui.editor.state import EditorState as S
from hookboard.ui.state import AuthState


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
        error=field_error("headers"),
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
    return field("Body", control, error=field_error("body"), html_for="f-body")


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
        error=field_error("target_id"),
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
            text_input("timeout_seconds", "Timeout (seconds)", **bounds("timeout_seconds")),
            rx.box(switch("follow_redirects", "Follow redirects"), padding_top="24px"),
        ),
        rx.hstack(
            guarded(
                rx.button(
                    rx.icon("send", size=14),
                    "Send test request",
                    variant="outline",
                    on_click=S.send_test,
                    loading=S.testing,
                    type="button",
                ),
                AuthState.deny_write,
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
