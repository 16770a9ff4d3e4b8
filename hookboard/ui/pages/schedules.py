"""Schedules: the table with words, next run, last outcome and history; row actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.services import dashboard as queries
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import format as fmt
from hookboard.ui import routes, schedule_actions, services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import (
    auto_paused_badge,
    confirm,
    empty_state,
    guarded,
    guarded_link,
    history_dots,
    run_badge,
    schedule_badge,
)
from hookboard.ui.ids import id_of
from hookboard.ui.pages.schedule_import import export_menu, import_dialog
from hookboard.ui.state import AuthState

PAGE_SIZE = 100


def schedule_rows(session, schedules, now) -> list[dict[str, Any]]:
    ids = [schedule.id for schedule in schedules]
    last = service.last_runs(session, ids)
    history = queries.recent_statuses(session, schedule_ids=ids)
    return [
        {
            "id": schedule.id,
            "name": schedule.name,
            "status": schedule.status,
            "words": schedule_actions.describe_schedule(schedule),
            "next": fmt.relative(schedule.next_run_at, now)
            if schedule.status == "active"
            else schedule.status,
            "next_at": fmt.absolute(schedule.next_run_at),
            "last_status": last[schedule.id].status if schedule.id in last else "",
            "paused_reason": schedule.paused_reason or "",
            "failing": fmt.failing_summary(
                schedule.consecutive_failures, schedule.failing_since, now
            ),
            "failing_at": fmt.absolute(schedule.failing_since),
            "history": history.get(schedule.id, []),
            "href": routes.schedule(schedule.id),
            "edit_href": routes.edit_schedule(schedule.id),
        }
        for schedule in schedules
    ]


class ScheduleListState(AuthState):
    rows: list[dict[str, Any]] = []
    next_cursor: str = ""
    loaded: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self._fetch(access, cursor=None)
        self.loaded = True

    def _fetch(self, access: Access, cursor: str | None):
        with services.db() as session:
            found = service.list_schedules(
                session, workspace_id=access.workspace_id, limit=PAGE_SIZE, cursor=cursor
            )
            rows = schedule_rows(session, found.items, services.now())
        self.rows = rows if cursor is None else [*self.rows, *rows]
        self.next_cursor = found.next_cursor or ""

    @rx.event
    def load_more(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self._fetch(access, cursor=self.next_cursor or None)

    def _act(
        self, action: Callable[[Access, int], Any], schedule_id: int, done: Callable[[Any], str]
    ):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            result = action(access, id_of(schedule_id, "schedule"))
        except service.ServiceError as error:
            return rx.toast.error(schedule_actions.error_message(error))
        self._fetch(access, cursor=None)
        return rx.toast.success(done(result))

    @rx.event
    def pause(self, schedule_id: int):
        return self._act(schedule_actions.pause, schedule_id, str)

    @rx.event
    def resume(self, schedule_id: int):
        return self._act(schedule_actions.resume, schedule_id, str)

    @rx.event
    def run_now(self, schedule_id: int):
        return self._act(
            schedule_actions.run_now, schedule_id, lambda run_id: f"Run {run_id} queued"
        )

    @rx.event
    def delete(self, schedule_id: int):
        return self._act(schedule_actions.delete, schedule_id, str)


def row_actions(row: rx.Var, state=ScheduleListState) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row["status"] == "paused",
            guarded(
                rx.icon_button(
                    rx.icon("play", size=16),
                    variant="soft",
                    color_scheme="green",
                    on_click=state.resume(row["id"]),
                    aria_label=f"Resume {row['name']}",
                ),
                AuthState.deny_write,
                "Resume",
            ),
            guarded(
                rx.icon_button(
                    rx.icon("pause", size=16),
                    variant="soft",
                    color_scheme="amber",
                    on_click=state.pause(row["id"]),
                    aria_label=f"Pause {row['name']}",
                    disabled=row["status"] == "completed",
                ),
                AuthState.deny_write,
                "Pause",
            ),
        ),
        guarded(
            rx.icon_button(
                rx.icon("zap", size=16),
                variant="soft",
                on_click=state.run_now(row["id"]),
                aria_label=f"Run {row['name']} now",
            ),
            AuthState.deny_write,
            "Run now",
        ),
        rx.cond(
            AuthState.deny_write != "",
            guarded(
                rx.icon_button(
                    rx.icon("pencil", size=16),
                    variant="soft",
                    color_scheme="gray",
                    aria_label=f"Edit {row['name']}",
                ),
                AuthState.deny_write,
            ),
            rx.tooltip(
                rx.link(
                    rx.icon_button(
                        rx.icon("pencil", size=16),
                        variant="soft",
                        color_scheme="gray",
                        aria_label=f"Edit {row['name']}",
                        tab_index=-1,
                    ),
                    href=row["edit_href"],
                ),
                content="Edit",
            ),
        ),
        rx.cond(
            AuthState.deny_write != "",
            guarded(
                rx.icon_button(
                    rx.icon("trash-2", size=16),
                    variant="soft",
                    color_scheme="red",
                    aria_label=f"Delete {row['name']}",
                ),
                AuthState.deny_write,
            ),
            confirm(
                rx.icon_button(
                    rx.icon("trash-2", size=16),
                    variant="soft",
                    color_scheme="red",
                    aria_label=f"Delete {row['name']}",
                ),
                title="Delete this schedule?",
                text=f"'{row['name']}' and all of its runs and attempts will be deleted.",
                confirm_label="Delete",
                on_confirm=state.delete(row["id"]),
            ),
        ),
        spacing="2",
    )


def status_cell(row: rx.Var) -> rx.Component:
    """Name, status, why it paused itself (on hover) and how long it has been failing."""
    return rx.vstack(
        rx.link(row["name"], href=row["href"], weight="medium"),
        rx.hstack(
            schedule_badge(row["status"]),
            rx.cond(row["paused_reason"] != "", auto_paused_badge(row["paused_reason"])),
            spacing="1",
            wrap="wrap",
        ),
        rx.cond(
            row["failing"] != "",
            rx.text(
                row["failing"],
                title=row["failing_at"],
                size="1",
                color_scheme="red",
                class_name="failing-since",
            ),
        ),
        spacing="1",
    )


def schedule_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(status_cell(row)),
        rx.table.cell(rx.text(row["words"], size="2")),
        rx.table.cell(rx.text(row["next"], title=row["next_at"], size="2", white_space="nowrap")),
        rx.table.cell(
            rx.cond(row["last_status"] != "", run_badge(row["last_status"]), rx.text("—"))
        ),
        rx.table.cell(history_dots(row["history"].to(list[str]))),
        rx.table.cell(row_actions(row)),
        data_schedule=row["name"],
    )


def schedules_table() -> rx.Component:
    headers = ("Name", "Schedule", "Next run", "Last", "History", "Actions")
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(ScheduleListState.rows, schedule_row)),
            width="100%",
            variant="surface",
        ),
        rx.cond(
            ScheduleListState.next_cursor != "",
            rx.button(
                "Load more", on_click=ScheduleListState.load_more, variant="soft", margin_top="12px"
            ),
        ),
        width="100%",
        overflow_x="auto",
    )


def new_schedule_button() -> rx.Component:
    button = rx.button(rx.icon("plus", size=16), "New schedule", id="new-schedule")
    return guarded_link(button, routes.NEW_SCHEDULE, AuthState.deny_write)


def page_actions() -> rx.Component:
    return rx.hstack(
        export_menu(),
        import_dialog(on_applied=ScheduleListState.load),
        new_schedule_button(),
        spacing="2",
        wrap="wrap",
    )


def view() -> rx.Component:
    return page(
        "Schedules",
        rx.cond(
            ScheduleListState.loaded & (ScheduleListState.rows.length() == 0),
            empty_state(
                "calendar-plus",
                "Create your first schedule",
                "A schedule calls a URL of yours on a cron, every N seconds to years, once, "
                "or within a window, and logs every attempt.",
                guarded_link(
                    rx.button("Create your first schedule", size="3"),
                    routes.NEW_SCHEDULE,
                    AuthState.deny_write,
                ),
            ),
            schedules_table(),
        ),
        actions=page_actions(),
    )
