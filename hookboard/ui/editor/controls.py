"""Small form controls shared by the editor's sections, each bound to EditorState.form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard.domain.limits import RANGES
from hookboard.ui.components.widgets import field
from hookboard.ui.editor.state import EditorState as S
from hookboard.ui.editor.state import error_key


def field_error(name: str) -> rx.Var:
    """The live error message for a form field ("" when it is fine)."""
    return S.errors[error_key(name)]


def bounds(name: str) -> dict[str, Any]:
    """Props of a number input bounded by the range the service enforces."""
    low, high = RANGES[name]
    return {"type": "number", "min": low, "max": high}


def text_input(name: str, label: str, *, hint: str = "", **props) -> rx.Component:
    control = rx.input(
        id=f"f-{name}",
        value=S.form[name].to(str),
        on_change=lambda value: S.set_field(name, value),
        aria_invalid=rx.cond(field_error(name) != "", "true", "false"),
        **props,
    )
    return field(label, control, error=field_error(name), hint=hint, html_for=f"f-{name}")


def choice(name: str, label: str, options: list[tuple[str, str]] | tuple) -> rx.Component:
    items = [rx.select.item(text, value=value) for value, text in options]
    control = rx.select.root(
        rx.select.trigger(id=f"f-{name}", width="100%"),
        rx.select.content(*items),
        value=S.form[name].to(str),
        on_change=lambda value: S.set_field(name, value),
    )
    return field(label, control, error=field_error(name), html_for=f"f-{name}")


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
