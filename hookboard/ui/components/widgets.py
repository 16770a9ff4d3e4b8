"""Small reusable pieces: badges, labelled fields, cards, empty states, confirmations."""

from __future__ import annotations

import reflex as rx

from hookboard.ui.format import RUN_STATUS_COLORS, SCHEDULE_STATUS_COLORS


def _match_color(status: rx.Var, colors: dict[str, str]) -> rx.Var:
    return rx.match(status, *[(name, color) for name, color in colors.items()], "gray")


def run_badge(status: rx.Var) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=_match_color(status, RUN_STATUS_COLORS),
        variant="soft",
        radius="full",
        data_status=status,
        class_name="run-status",
    )


def schedule_badge(status: rx.Var) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=_match_color(status, SCHEDULE_STATUS_COLORS),
        variant="outline",
        radius="full",
    )


def auto_paused_badge(reason: rx.Var) -> rx.Component:
    """The schedule paused itself (failed runs in a row, or times it cannot compute);
    the reason shows on hover and is read out by screen readers."""
    return rx.tooltip(
        rx.badge(
            rx.icon("circle-pause", size=12),
            "auto-paused",
            color_scheme="red",
            variant="soft",
            radius="full",
            aria_label=f"auto-paused: {reason}",
            class_name="auto-paused",
            tab_index=0,
        ),
        content=reason,
    )


def history_dots(statuses: rx.Var) -> rx.Component:
    """The newest runs as small coloured squares, oldest left."""
    return rx.hstack(
        rx.foreach(
            statuses,
            lambda status: rx.box(
                width="8px",
                height="14px",
                border_radius="2px",
                background=rx.color(_match_color(status, RUN_STATUS_COLORS), 9),
                title=status,
            ),
        ),
        spacing="1",
        aria_label="Recent runs",
    )


def field(
    label: str,
    control: rx.Component,
    *,
    error: rx.Var | str = "",
    hint: str = "",
    html_for: str = "",
) -> rx.Component:
    """A label above its control, a hint, and the field's error beside it."""
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=html_for or None),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", role="alert", class_name="field-error"),
            rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )


def stat_card(label: str, value: rx.Var | str, icon: str, test_id: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.heading(value, size="7", id=test_id),
                spacing="1",
            ),
            rx.spacer(),
            rx.icon(icon, size=28, color=rx.color("accent", 9)),
            align="center",
        ),
        width="100%",
    )


def empty_state(icon: str, title: str, text: str, action: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40, color=rx.color("gray", 9)),
            rx.heading(title, size="5"),
            rx.text(text, color_scheme="gray", text_align="center"),
            action,
            align="center",
            spacing="3",
            max_width="420px",
        ),
        padding="48px",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
    )


def confirm(
    trigger: rx.Component,
    *,
    title: str,
    text: rx.Var | str,
    confirm_label: str,
    on_confirm,
) -> rx.Component:
    """An alert dialog: the action runs only after an explicit confirmation."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(confirm_label, color_scheme="red", on_click=on_confirm)
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
            max_width="440px",
        ),
    )


def dialog_form_actions(submit_label: str, submit_id: str) -> rx.Component:
    """A dialog form's footer: Cancel closes it, the submit button sends the form."""
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(submit_label, type="submit", id=submit_id),
        justify="end",
        width="100%",
    )


def code_text(value: rx.Var | str, **props) -> rx.Component:
    return rx.code(value, variant="ghost", word_break="break-all", **props)


def guarded(button: rx.Component, reason: rx.Var, label: str = "") -> rx.Component:
    """`button` (with its `label` tooltip, if any), disabled with a tooltip saying
    why when the caller's role lacks the right: `reason` is one of AuthState's
    deny_* fields, "" when the role has it.

    A disabled button gets no pointer events, so that tooltip hangs on a wrapper
    that can also be focused from the keyboard."""
    denied = reason != ""
    own = getattr(button, "disabled", None)
    button.disabled = denied if own is None else denied | own  # pyright: ignore[reportAttributeAccessIssue]
    allowed = rx.tooltip(button, content=label) if label else button
    return rx.cond(
        denied,
        rx.tooltip(
            rx.box(
                button,
                display="inline-block",
                tab_index=0,
                aria_label=reason,
                class_name="denied",
            ),
            content=reason,
        ),
        allowed,
    )


def confirm_guarded(button: rx.Component, reason: rx.Var, **confirm_props) -> rx.Component:
    """A confirmed action (see `confirm`) the caller's role may lack (see `guarded`)."""
    return rx.cond(reason != "", guarded(button, reason), confirm(button, **confirm_props))


def guarded_link(button: rx.Component, href: str | rx.Var, reason: rx.Var) -> rx.Component:
    """A button that opens `href` (a form to fill), or stays disabled with the
    reason when the caller's role could not save it (see `guarded`)."""
    return rx.cond(reason != "", guarded(button, reason), rx.link(button, href=href))
