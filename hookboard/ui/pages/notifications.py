"""Notifications: the channels alerts go to (webhook or email); enable, test, delete.

Everything goes through hookboard.services.channels, as the API's
/notification-channels routes do, including the test alert.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.alerts.senders import Smtp
from hookboard.models import NotificationChannel
from hookboard.services import channels
from hookboard.services.workspaces.permissions import Access
from hookboard.settings import get_settings
from hookboard.ui import format as fmt
from hookboard.ui import services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import (
    confirm_guarded,
    dialog_form_actions,
    empty_state,
    field,
    guarded,
)
from hookboard.ui.ids import id_of
from hookboard.ui.state import AuthState

EMPTY_FORM = {"name": "", "kind": "webhook", "url": "", "email": ""}
ERROR_FIELDS = ("name", "kind", "url", "email")
EVENTS_TEXT = (
    "An alert goes to every enabled channel when a schedule starts failing (a run "
    "failed after its retries; reminders at 10, 100, 1,000... failures in a row), "
    "when it pauses itself after failing runs, and when it recovers."
)


def smtp() -> Smtp:
    return Smtp.from_settings(get_settings())


def channel_row(channel: NotificationChannel, now) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind,
        "destination": channel.url if channel.kind == "webhook" else channel.email,
        "enabled": channel.enabled,
        "created": fmt.relative(channel.created_at, now),
    }


def fields_of(form: dict[str, str]) -> dict[str, Any]:
    """What create_channel takes: only the destination of the chosen kind."""
    kind = form["kind"]
    return {
        "name": form["name"],
        "kind": kind,
        "url": form["url"].strip() if kind == "webhook" else None,
        "email": form["email"].strip() if kind == "email" else None,
        "enabled": True,
    }


class NotificationsState(AuthState):
    channels: list[dict[str, Any]] = []
    form: dict[str, str] = dict(EMPTY_FORM)
    errors: dict[str, str] = dict.fromkeys(ERROR_FIELDS, "")
    dialog_open: bool = False
    loaded: bool = False
    email_available: bool = False
    testing: int = 0  # the channel whose test alert is on its way

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self._refresh(access)
        self.email_available = smtp().configured
        self.loaded = True
        return None

    def _refresh(self, access: Access) -> None:
        with services.db() as session:
            found = channels.list_channels(
                session, workspace_id=access.workspace_id, limit=service.MAX_PAGE_SIZE
            )
        now = services.now()
        self.channels = [channel_row(channel, now) for channel in found.items]

    @rx.event
    def open_new(self):
        self.form, self.dialog_open = dict(EMPTY_FORM), True
        self.errors = dict.fromkeys(ERROR_FIELDS, "")

    @rx.event
    def set_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_form(self, name: str, value: str):
        self.form[name] = value
        self.errors[name] = ""
        if name == "kind":
            self.errors["url"] = self.errors["email"] = ""

    @rx.event
    def create(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self.errors = dict.fromkeys(ERROR_FIELDS, "")
        try:
            with services.db() as session:
                channel = channels.create_channel(
                    session,
                    access=access,
                    fields=fields_of(self.form),
                    now=services.now(),
                    config=services.config(),
                    smtp_configured=smtp().configured,
                )
                session.commit()
        except (service.InvalidInput, service.Conflict) as error:
            if error.field in self.errors:
                self.errors[error.field] = error.message
            return rx.toast.error(f"Not created: {error}")
        self.dialog_open = False
        self._refresh(access)
        return rx.toast.success(f"Channel {channel.name!r} created")

    @rx.event
    def set_enabled(self, channel_id: int, enabled: bool):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                channel = channels.update_channel(
                    session,
                    access=access,
                    channel_id=id_of(channel_id, "notification channel"),
                    changes={"enabled": bool(enabled)},
                    now=services.now(),
                    config=services.config(),
                )
                session.commit()
        except service.ServiceError as error:
            self._refresh(access)
            return rx.toast.error(str(error))
        self._refresh(access)
        state = "enabled" if channel.enabled else "disabled: it gets no alerts"
        return rx.toast.success(f"{channel.name} {state}")

    @rx.event
    def delete(self, channel_id: int):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                channels.delete_channel(
                    session, access=access, channel_id=id_of(channel_id, "notification channel")
                )
                session.commit()
        except service.NotFound as error:
            return rx.toast.error(str(error))
        self._refresh(access)
        return rx.toast.success("Channel deleted")

    @rx.event
    async def send_test(self, channel_id: int):
        access = self._access()
        if access is None:
            yield self._to_login()
            return
        try:
            channel_ref = id_of(channel_id, "notification channel")
            with services.db() as session:
                prepared = channels.prepare_test_alert(
                    session, access=access, channel_id=channel_ref, now=services.now()
                )
        except service.NotFound as error:
            yield rx.toast.error(str(error))
            return
        self.testing = channel_ref
        yield
        failure = await channels.send_test_alert(prepared, config=services.config(), smtp=smtp())
        self.testing = 0
        if failure is None:
            yield rx.toast.success("Test alert delivered")
        else:
            yield rx.toast.error(f"Test alert failed: {failure}")


S = NotificationsState


def kind_picker() -> rx.Component:
    return rx.vstack(
        rx.text("Kind", size="2", weight="medium", id="c-kind-label"),
        rx.segmented_control.root(
            rx.segmented_control.item("Webhook", value="webhook"),
            rx.segmented_control.item("Email", value="email"),
            value=S.form["kind"],
            on_change=lambda value: S.set_form("kind", value),
            aria_labelledby="c-kind-label",
            id="c-kind",
        ),
        rx.cond(
            S.errors["kind"] != "",
            rx.text(S.errors["kind"], size="1", color_scheme="red", class_name="field-error"),
        ),
        spacing="1",
    )


def text_field(name: str, label: str, hint: str = "", **props) -> rx.Component:
    control = rx.input(
        id=f"c-{name}", value=S.form[name], on_change=lambda v: S.set_form(name, v), **props
    )
    return field(label, control, error=S.errors[name], hint=hint, html_for=f"c-{name}")


def channel_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            text_field("name", "Name", placeholder="Ops Slack", required=True),
            kind_picker(),
            rx.cond(
                S.form["kind"] == "webhook",
                text_field(
                    "url",
                    "Webhook URL",
                    hint="Slack incoming webhooks work as they are; the JSON is signed like "
                    "deliveries.",
                    placeholder="https://hooks.slack.com/services/…",
                    type="url",
                ),
                rx.vstack(
                    text_field("email", "Email address", placeholder="ops@example.com"),
                    rx.cond(
                        ~S.email_available,
                        rx.callout(
                            "Email alerts need the server's SMTP_HOST setting.",
                            icon="info",
                            color_scheme="amber",
                            size="1",
                        ),
                    ),
                    width="100%",
                ),
            ),
            dialog_form_actions("Create channel", "save-channel"),
            spacing="3",
        ),
        on_submit=lambda _: S.create(),
        reset_on_submit=False,
    )


def channel_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New notification channel"),
            rx.dialog.description(EVENTS_TEXT, size="2", margin_bottom="12px"),
            channel_form(),
            max_width="520px",
        ),
        open=S.dialog_open,
        on_open_change=S.set_open,
    )


def channel_actions(channel: rx.Var) -> rx.Component:
    return rx.hstack(
        guarded(
            rx.button(
                rx.icon("send", size=14),
                "Send test",
                variant="soft",
                size="1",
                loading=S.testing == channel["id"].to(int),
                on_click=S.send_test(channel["id"].to(int)),
                aria_label=f"Send a test alert to {channel['name']}",
            ),
            AuthState.deny_manage,
        ),
        confirm_guarded(
            rx.button(
                rx.icon("trash-2", size=14),
                "Delete",
                variant="soft",
                color_scheme="red",
                size="1",
                aria_label=f"Delete {channel['name']}",
            ),
            AuthState.deny_manage,
            title="Delete this channel?",
            text=f"'{channel['name']}' gets no more alerts; queued ones are dropped.",
            confirm_label="Delete",
            on_confirm=S.delete(channel["id"].to(int)),
        ),
        spacing="2",
    )


def channel_card(channel: rx.Var) -> rx.Component:
    """A card rather than a table row: it reads the same at 390 px as on a desktop."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(channel["name"], weight="medium", size="3"),
                rx.badge(
                    channel["kind"],
                    color_scheme=rx.cond(channel["kind"] == "webhook", "violet", "cyan"),
                    variant="soft",
                ),
                rx.spacer(),
                rx.el.label(
                    rx.hstack(
                        rx.text(
                            rx.cond(channel["enabled"].to(bool), "Enabled", "Disabled"),
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.switch(
                            checked=channel["enabled"].to(bool),
                            on_change=lambda value: S.set_enabled(channel["id"].to(int), value),
                            aria_label=f"Alerts to {channel['name']} enabled",
                            disabled=AuthState.deny_manage != "",
                        ),
                        align="center",
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.code(channel["destination"], variant="ghost", word_break="break-all"),
            rx.hstack(
                rx.text("Added ", channel["created"], size="1", color_scheme="gray"),
                rx.spacer(),
                channel_actions(channel),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="channel-row",
        data_channel=channel["name"],
    )


def view() -> rx.Component:
    return page(
        "Notifications",
        rx.text(EVENTS_TEXT, color_scheme="gray"),
        rx.cond(
            S.loaded & (S.channels.length() == 0),
            empty_state(
                "bell",
                "No notification channels",
                "Add a webhook (Slack works as it is) or an email address to hear about "
                "failing schedules before your users do.",
                guarded(rx.button("Add a channel", on_click=S.open_new), AuthState.deny_manage),
            ),
            rx.vstack(rx.foreach(S.channels, channel_card), width="100%", spacing="3"),
        ),
        channel_dialog(),
        actions=guarded(
            rx.button(
                rx.icon("plus", size=16), "New channel", on_click=S.open_new, id="new-channel"
            ),
            AuthState.deny_manage,
        ),
    )
