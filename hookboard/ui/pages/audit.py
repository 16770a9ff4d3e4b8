"""The audit log: who changed what in this workspace, newest first; filtered by
actor, action, object and dates; keyset pages newer/older. Owners and admins
only (the service checks; other roles see why)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import reflex as rx

from hookboard.models import AuditEvent
from hookboard.services import InvalidInput, audit
from hookboard.services.workspaces.permissions import Access, Action, allows
from hookboard.ui import format as fmt
from hookboard.ui import services
from hookboard.ui.components.layout import page
from hookboard.ui.components.pager import keyset_pager
from hookboard.ui.components.widgets import field
from hookboard.ui.pages.logs import day_bound
from hookboard.ui.state import AuthState

PAGE_SIZE = 50
MAX_CHANGES_CHARS = 300  # of the masked changes, in a table cell
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")


def event_row(event: AuditEvent, now: datetime) -> dict[str, Any]:
    changes = json.dumps(event.changes, separators=(", ", ": "), default=str)
    return {
        "id": str(event.id),
        "when": fmt.relative(event.at, now),
        "at": fmt.absolute(event.at),
        "actor": event.actor_email or f"{event.actor_type} {event.actor_id or ''}".strip(),
        "actor_type": event.actor_type,
        "action": event.action,
        "object": f"{event.object_type} {event.object_id or ''}".strip(),
        "changes": changes if len(changes) <= MAX_CHANGES_CHARS else changes[:299] + "…",
        "ip": event.ip or "—",
    }


def filters_of(form: dict[str, str]) -> audit.AuditFilters:
    """The form's filters; the actor is an email address (the service checks each)."""

    def text(name: str) -> str | None:
        return form.get(name, "").strip() or None

    return audit.AuditFilters(
        actor_email=text("actor"),
        action=text("action"),
        object_type=text("object_type"),
        object_id=text("object_id"),
        since=day_bound(form.get("since", ""), "since", end=False),
        until=day_bound(form.get("until", ""), "until", end=True),
    )


class AuditState(AuthState):
    rows: list[dict[str, Any]] = []
    form: dict[str, str] = dict.fromkeys(FILTERS, "")
    cursors: list[str] = []  # the cursor of each page before this one; [] on the first
    page_cursor: str = ""
    next_cursor: str = ""
    filter_error: str = ""
    loaded: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self.cursors, self.page_cursor = [], ""
        return self._fetch(access)

    def _fetch(self, access: Access):
        self.filter_error, self.loaded = "", True
        if not allows(access, Action.manage):
            self.rows, self.next_cursor = [], ""
            return None  # the page says why; the service would refuse
        try:
            with services.db() as session:
                found = audit.list_events(
                    session,
                    access=access,
                    filters=filters_of(self.form),
                    limit=PAGE_SIZE,
                    cursor=self.page_cursor or None,
                )
        except InvalidInput as error:
            self.filter_error = str(error)
            return rx.toast.error(str(error))
        now = services.now()
        self.rows = [event_row(event, now) for event in found.items]
        self.next_cursor = found.next_cursor or ""
        return None

    def _refetch(self):
        access = self._access()
        if access is None:
            return self._to_login()
        return self._fetch(access)

    @rx.event
    def apply_filters(self, form: dict):
        self.form = {name: str(form.get(name, ""))[:320] for name in FILTERS}
        self.cursors, self.page_cursor = [], ""
        return self._refetch()

    @rx.event
    def clear_filters(self):
        self.form = dict.fromkeys(FILTERS, "")
        self.cursors, self.page_cursor = [], ""
        return self._refetch()

    @rx.event
    def older(self):
        if not self.next_cursor:
            return None
        self.cursors.append(self.page_cursor)
        self.page_cursor = self.next_cursor
        return self._refetch()

    @rx.event
    def newer(self):
        if not self.cursors:
            return None
        self.page_cursor = self.cursors.pop()
        return self._refetch()


S = AuditState


def _input(name: str, label: str, placeholder: str = "", type_: str = "text") -> rx.Component:
    return field(
        label,
        rx.input(
            name=name,
            id=f"audit-{name}",
            default_value=S.form[name],
            placeholder=placeholder,
            type=type_,
            max_length=320,
        ),
        html_for=f"audit-{name}",
    )


def filters() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                _input("actor", "Actor", "email address"),
                _input("action", "Action", "schedule.pause or schedule."),
                _input("object_type", "Object type", "schedule"),
                _input("object_id", "Object id", "42"),
                _input("since", "From", type_="date"),
                _input("until", "To", type_="date"),
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                S.filter_error != "",
                rx.text(S.filter_error, color_scheme="red", size="2", role="alert"),
            ),
            rx.hstack(
                rx.button("Clear", type="button", variant="ghost", on_click=S.clear_filters),
                rx.button(rx.icon("filter", size=14), "Filter", type="submit", id="audit-filter"),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=S.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def event_cells(event: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.tooltip(rx.text(event["when"]), content=event["at"]), white_space="nowrap"
        ),
        rx.table.cell(event["actor"]),
        rx.table.cell(rx.code(event["action"], variant="ghost")),
        rx.table.cell(event["object"]),
        rx.table.cell(rx.text(event["changes"], size="1", word_break="break-all")),
        rx.table.cell(rx.text(event["ip"], size="1")),
        class_name="audit-row",
        data_action=event["action"],
    )


def events_table() -> rx.Component:
    headers = ["When", "Actor", "Action", "Object", "Changes", "IP"]
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(S.rows, event_cells)),
            width="100%",
            variant="surface",
            size="1",
        ),
        width="100%",
        overflow_x="auto",
    )


def pager() -> rx.Component:
    return keyset_pager(
        on_newer=S.newer,
        on_older=S.older,
        at_newest=S.cursors.length() == 0,
        at_oldest=S.next_cursor == "",
        newer_id="audit-newer",
        older_id="audit-older",
    )


def view() -> rx.Component:
    return page(
        "Audit log",
        rx.cond(
            AuthState.deny_manage != "",
            rx.callout(
                "The audit log " + AuthState.deny_manage + ".",
                icon="lock",
                width="100%",
                id="audit-denied",
            ),
            rx.vstack(
                filters(),
                rx.cond(
                    S.rows.length() > 0,
                    events_table(),
                    rx.cond(
                        S.loaded,
                        rx.callout("No change matches.", icon="info", width="100%"),
                    ),
                ),
                pager(),
                spacing="4",
                width="100%",
            ),
        ),
    )
