"""API keys: list, create (the key is shown once, with a copy button), revoke."""

from __future__ import annotations

import reflex as rx

from hookboard.services import accounts
from hookboard.services.workspaces.permissions import Access
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


class KeysState(AuthState):
    keys: list[dict[str, str]] = []
    new_name: str = ""
    new_scope: str = "write"
    name_error: str = ""
    created_key: str = ""  # the full key: held only until its dialog closes
    dialog_open: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self._refresh(access)
        return None

    def _refresh(self, access: Access) -> None:
        with services.db() as session:
            keys = accounts.list_api_keys(session, workspace_id=access.workspace_id)
        now = services.now()
        self.keys = [
            {
                "id": str(key.id),
                "name": key.name,
                "prefix": key.prefix + "…",
                "scope": key.scope,
                "created": fmt.relative(key.created_at, now),
                "last_used": fmt.relative(key.last_used_at, now) if key.last_used_at else "never",
                "creator": creator or "a former member",
            }
            for key, creator in keys
        ]

    @rx.event
    def open_dialog(self, open_: bool = True):
        self.dialog_open = open_
        if not open_:
            self.created_key, self.new_name, self.name_error = "", "", ""

    @rx.event
    def set_new_name(self, value: str):
        self.new_name, self.name_error = value, ""

    @rx.event
    def set_new_scope(self, value: str):
        self.new_scope = value

    @rx.event
    def create(self):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                created = accounts.create_api_key(
                    session, access=access, name=self.new_name, scope=self.new_scope
                )
        except accounts.InvalidInputError as error:
            self.name_error = str(error)
            return rx.toast.error(f"Not created: {self.name_error}")
        self.created_key = created.key
        self._refresh(access)
        return rx.toast.success(f"API key {created.api_key.name!r} created")

    @rx.event
    def copy_key(self):
        return [rx.set_clipboard(self.created_key), rx.toast.success("Copied to the clipboard")]

    @rx.event
    def revoke(self, key_id: str):
        access = self._access()
        if access is None:
            return self._to_login()
        with services.db() as session:
            revoked = accounts.revoke_api_key(
                session, access=access, key_id=id_of(key_id, "API key")
            )
        self._refresh(access)
        if not revoked:
            return rx.toast.error("That key was already revoked")
        return rx.toast.success("API key revoked")


def create_form() -> rx.Component:
    S = KeysState
    return rx.form(
        rx.vstack(
            field(
                "Name",
                rx.input(
                    id="key-name",
                    value=S.new_name,
                    on_change=S.set_new_name,
                    placeholder="CI deploys",
                    auto_focus=True,
                ),
                error=S.name_error,
                html_for="key-name",
            ),
            field(
                "Scope",
                rx.radio_group.root(
                    rx.hstack(
                        rx.radio_group.item(value="write", id="scope-write"),
                        rx.el.label("Read and write", html_for="scope-write"),
                        rx.radio_group.item(value="read", id="scope-read"),
                        rx.el.label("Read only", html_for="scope-read"),
                        align="center",
                    ),
                    value=S.new_scope,
                    on_change=S.set_new_scope,
                    aria_label="Scope",
                ),
            ),
            dialog_form_actions("Create key", "create-key"),
            spacing="4",
        ),
        on_submit=lambda _: S.create(),
        reset_on_submit=False,
    )


def key_reveal() -> rx.Component:
    S = KeysState
    return rx.vstack(
        rx.callout(
            "Copy this key now: it is shown only once.", icon="triangle-alert", color_scheme="amber"
        ),
        rx.hstack(
            rx.code(S.created_key, id="created-key", word_break="break-all", size="3"),
            rx.icon_button(
                rx.icon("copy", size=16),
                on_click=S.copy_key,
                aria_label="Copy the key",
                variant="soft",
            ),
            align="center",
            width="100%",
        ),
        rx.hstack(rx.dialog.close(rx.button("Done", id="key-done")), justify="end", width="100%"),
        spacing="4",
    )


def create_dialog() -> rx.Component:
    S = KeysState
    button = rx.button(rx.icon("plus", size=16), "New API key", id="new-key")
    dialog = rx.dialog.root(
        rx.dialog.trigger(button),
        rx.dialog.content(
            rx.dialog.title("New API key"),
            rx.dialog.description(
                "Use it as a bearer token: Authorization: Bearer <key>.",
                size="2",
                margin_bottom="12px",
            ),
            rx.cond(S.created_key != "", key_reveal(), create_form()),
            max_width="480px",
        ),
        open=S.dialog_open,
        on_open_change=S.open_dialog,
    )
    return rx.cond(AuthState.deny_manage != "", guarded(button, AuthState.deny_manage), dialog)


def key_row(key: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(key["name"], weight="medium")),
        rx.table.cell(rx.code(key["prefix"])),
        rx.table.cell(
            rx.badge(key["scope"], color_scheme=rx.cond(key["scope"] == "write", "violet", "gray"))
        ),
        rx.table.cell(key["created"]),
        rx.table.cell(key["last_used"]),
        rx.table.cell(rx.text(key["creator"], size="2", color_scheme="gray")),
        rx.table.cell(
            confirm_guarded(
                rx.button(
                    "Revoke",
                    color_scheme="red",
                    variant="soft",
                    size="1",
                    aria_label=f"Revoke {key['name']}",
                ),
                AuthState.deny_manage,
                title="Revoke this API key?",
                text=f"Requests with '{key['name']}' get 401 from now on. This cannot be undone.",
                confirm_label="Revoke",
                on_confirm=KeysState.revoke(key["id"]),
            )
        ),
        class_name="key-row",
    )


def view() -> rx.Component:
    return page(
        "API keys",
        rx.text(
            "Keys call the REST API (/api/v1, documented at /docs) with read or read-write access.",
            color_scheme="gray",
        ),
        rx.cond(
            KeysState.keys.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Name", "Key", "Scope", "Created", "Last used", "By", "")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(KeysState.keys, key_row)),
                    width="100%",
                    variant="surface",
                ),
                width="100%",
                overflow_x="auto",
            ),
            empty_state(
                "key-round",
                "No API keys",
                "Create a key to script Hookboard from CI or your code.",
                rx.fragment(),
            ),
        ),
        actions=create_dialog(),
    )
