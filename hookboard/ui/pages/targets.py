"""Targets: reusable requests; list with the schedules using each, create, edit, delete."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.core.redaction import redact_headers
from hookboard.domain.limits import HTTP_METHODS
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import routes, services
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

EMPTY_FORM = {"name": "", "method": "POST", "url": "", "headers": "", "body": ""}
ERROR_FIELDS = ("name", "method", "url", "headers", "body")


def parse_header_lines(text: str) -> dict[str, str]:
    """'Name: value' per line; a line without a colon is an error naming it."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise service.InvalidInput("headers", f"line {number}: write it as 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def header_lines(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in redact_headers(headers).items())


class TargetsState(AuthState):
    targets: list[dict[str, Any]] = []
    form: dict[str, str] = dict(EMPTY_FORM)
    errors: dict[str, str] = dict.fromkeys(ERROR_FIELDS, "")
    editing: int = 0  # the target being edited; 0 for a new one
    dialog_open: bool = False
    loaded: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self._refresh(access)
        self.loaded = True
        return None

    def _refresh(self, access: Access) -> None:
        with services.db() as session:
            found = service.list_targets(
                session, workspace_id=access.workspace_id, limit=service.MAX_PAGE_SIZE
            )
            usage = service.target_usage(session, [t.id for t in found.items])
        self.targets = [
            {
                "id": target.id,
                "name": target.name,
                "method": target.method,
                "url": target.url,
                "headers": header_lines(target.headers or {}),
                "body": target.body or "",
                "count": usage[target.id].count,
                "schedules": [
                    {"name": name, "href": routes.schedule(schedule_id)}
                    for schedule_id, name in usage[target.id].schedules
                ],
            }
            for target in found.items
        ]

    @rx.event
    def open_new(self):
        self.form, self.editing, self.dialog_open = dict(EMPTY_FORM), 0, True
        self.errors = dict.fromkeys(ERROR_FIELDS, "")

    @rx.event
    def open_edit(self, target: dict):
        self.form = {name: str(target.get(name) or "") for name in EMPTY_FORM}
        self.editing, self.dialog_open = id_of(target.get("id"), "target"), True
        self.errors = dict.fromkeys(ERROR_FIELDS, "")

    @rx.event
    def set_open(self, value: bool):
        self.dialog_open = value
        if not value:
            self.form = dict(EMPTY_FORM)

    @rx.event
    def set_form(self, name: str, value: str):
        self.form[name] = value
        self.errors[name] = ""

    @rx.event
    def save(self):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            fields = {
                "name": self.form["name"],
                "method": self.form["method"],
                "url": self.form["url"],
                "headers": parse_header_lines(self.form["headers"]),
                "body": self.form["body"] or None,
            }
            self._write(access, fields)
        except service.ServiceError as error:  # NotFound too: a target not (or no longer) theirs
            if getattr(error, "field", None) in self.errors:
                self.errors[error.field] = error.message
            return rx.toast.error(f"Not saved: {error}")
        saved = self.form["name"]
        # Header values may be secrets: the form forgets them once saved.
        self.form, self.dialog_open = dict(EMPTY_FORM), False
        self._refresh(access)
        return rx.toast.success(f"Target {saved!r} saved")

    def _write(self, access: Access, fields: dict[str, Any]) -> None:
        with services.db() as session:
            if self.editing:
                service.update_target(
                    session,
                    access=access,
                    target_id=self.editing,
                    changes=fields,
                    now=services.now(),
                    config=services.config(),
                )
            else:
                service.create_target(
                    session,
                    access=access,
                    fields=fields,
                    now=services.now(),
                    config=services.config(),
                )
            session.commit()

    @rx.event
    def delete(self, target_id: int):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                service.delete_target(session, access=access, target_id=id_of(target_id, "target"))
                session.commit()
        except (service.NotFound, service.Conflict) as error:
            return rx.toast.error(str(error))
        self._refresh(access)
        return rx.toast.success("Target deleted")


def target_form() -> rx.Component:
    S = TargetsState

    def text(name: str, label: str, **props) -> rx.Component:
        return field(
            label,
            rx.input(
                id=f"t-{name}", value=S.form[name], on_change=lambda v: S.set_form(name, v), **props
            ),
            error=S.errors[name],
            html_for=f"t-{name}",
        )

    return rx.form(
        rx.vstack(
            text("name", "Name", placeholder="Billing service", required=True),
            field(
                "Method",
                rx.select(
                    list(HTTP_METHODS),
                    value=S.form["method"],
                    on_change=lambda v: S.set_form("method", v),
                    id="t-method",
                ),
                error=S.errors["method"],
                html_for="t-method",
            ),
            text("url", "URL", placeholder="https://example.com/hook", required=True),
            field(
                "Headers",
                rx.text_area(
                    id="t-headers",
                    value=S.form["headers"],
                    on_change=lambda v: S.set_form("headers", v),
                    placeholder="Authorization: Bearer …",
                    rows="3",
                    font_family="monospace",
                ),
                error=S.errors["headers"],
                hint="One 'Name: value' per line; secret values show as ***, kept if left so.",
                html_for="t-headers",
            ),
            field(
                "Body",
                rx.text_area(
                    id="t-body",
                    value=S.form["body"],
                    on_change=lambda v: S.set_form("body", v),
                    rows="4",
                    font_family="monospace",
                ),
                error=S.errors["body"],
                html_for="t-body",
            ),
            dialog_form_actions("Save target", "save-target"),
            spacing="3",
        ),
        on_submit=lambda _: S.save(),
        reset_on_submit=False,
    )


def target_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(TargetsState.editing != 0, "Edit target", "New target")),
            target_form(),
            max_width="520px",
        ),
        open=TargetsState.dialog_open,
        on_open_change=TargetsState.set_open,
    )


def target_card(target: rx.Var) -> rx.Component:
    schedules = target["schedules"].to(list[dict[str, str]])
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(target["name"].to(str), size="4"),
                rx.spacer(),
                guarded(
                    rx.button(
                        rx.icon("pencil", size=14),
                        "Edit",
                        variant="soft",
                        size="1",
                        on_click=TargetsState.open_edit(target),
                    ),
                    AuthState.deny_write,
                ),
                confirm_guarded(
                    rx.button(
                        rx.icon("trash-2", size=14),
                        "Delete",
                        variant="soft",
                        color_scheme="red",
                        size="1",
                    ),
                    AuthState.deny_write,
                    title="Delete this target?",
                    text="Schedules cannot lose their request: a target still in use is kept.",
                    confirm_label="Delete",
                    on_confirm=TargetsState.delete(target["id"].to(int)),
                ),
                width="100%",
                align="center",
            ),
            rx.code(f"{target['method']} {target['url']}", word_break="break-all"),
            rx.cond(
                target["count"].to(int) > 0,
                rx.hstack(
                    rx.text(f"Used by {target['count']}:", size="2", color_scheme="gray"),
                    rx.foreach(schedules, lambda s: rx.link(s["name"], href=s["href"], size="2")),
                    wrap="wrap",
                ),
                rx.text("Not used by any schedule", size="2", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def view() -> rx.Component:
    return page(
        "Targets",
        rx.text(
            "A target is a named request many schedules share: edit it once, they all follow.",
            color_scheme="gray",
        ),
        rx.cond(
            TargetsState.loaded & (TargetsState.targets.length() == 0),
            empty_state(
                "crosshair",
                "No targets yet",
                "Save an endpoint once and pick it in every schedule.",
                guarded(
                    rx.button("Create a target", on_click=TargetsState.open_new),
                    AuthState.deny_write,
                ),
            ),
            rx.vstack(rx.foreach(TargetsState.targets, target_card), width="100%", spacing="3"),
        ),
        target_dialog(),
        actions=guarded(
            rx.button(
                rx.icon("plus", size=16),
                "New target",
                on_click=TargetsState.open_new,
                id="new-target",
            ),
            AuthState.deny_write,
        ),
    )
