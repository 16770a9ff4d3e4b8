"""Logs: every run, newest first, filtered, keyset-paginated, refreshed while on the first page."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, time, timedelta
from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.models import Run, RunStatus
from hookboard.services import dashboard as queries
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import format as fmt
from hookboard.ui import routes, services
from hookboard.ui.components.layout import page
from hookboard.ui.components.pager import keyset_pager
from hookboard.ui.components.widgets import field
from hookboard.ui.format import RUN_STATUS_COLORS
from hookboard.ui.ids import filter_id
from hookboard.ui.state import AuthState

ALL = "all"
PAGE_SIZE = 50
REFRESH_MS = 2000


def run_row(run: Run, names: dict[int, str], now: datetime) -> dict[str, Any]:
    return {
        "id": run.id,
        "href": routes.run(run.id),
        "schedule": names.get(run.schedule_id, f"#{run.schedule_id}"),
        "schedule_href": routes.schedule(run.schedule_id),
        "status": run.status,
        "when": fmt.relative(run.scheduled_for, now),
        "at": fmt.absolute(run.scheduled_for),
        "attempts": f"{run.attempt_count}/{run.max_attempts}",
        "code": str(run.status_code or "—"),
        "latency": fmt.latency(run.latency_ms),
        "error": run.error_class or "",
        "trigger": run.trigger,
    }


def day_bound(text: str, field: str, *, end: bool) -> datetime | None:
    """A 'YYYY-MM-DD' filter as the first (or last) instant of that UTC day."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise service.InvalidInput(field, "must be a date") from None
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start + timedelta(days=1, microseconds=-1) if end else start


class LogsState(AuthState):
    rows: list[dict[str, Any]] = []
    schedules: list[dict[str, str]] = []
    schedule_filter: str = ALL
    status_filter: str = ALL
    since: str = ""
    until: str = ""
    cursors: list[str] = []  # the cursor of each page before this one; [] on the first page
    page_cursor: str = ""
    next_cursor: str = ""
    live: bool = True
    loaded: bool = False
    filter_error: str = ""
    _fetched_at: float = 0.0  # backend only: when the rows were last read

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        query = self.router.url.query_parameters
        self.schedule_filter = query.get("schedule", ALL)
        self.status_filter = query.get("status", ALL)
        with services.db() as session:
            names = queries.schedule_names(session, workspace_id=access.workspace_id)
        self.schedules = [{"id": str(i), "name": name} for i, name in names]
        self.cursors, self.page_cursor = [], ""
        result = self._fetch(access)
        self.loaded = True
        return result

    def _fetch(self, access: Access):
        self.filter_error = ""
        try:
            with services.db() as session:
                found = service.list_runs(
                    session,
                    workspace_id=access.workspace_id,
                    schedule_id=None
                    if self.schedule_filter == ALL
                    else filter_id(self.schedule_filter, "schedule"),
                    status=None if self.status_filter == ALL else self.status_filter,
                    since=day_bound(self.since, "since", end=False),
                    until=day_bound(self.until, "until", end=True),
                    limit=PAGE_SIZE,
                    cursor=self.page_cursor or None,
                )
                names = queries.names_of_schedules(
                    session,
                    workspace_id=access.workspace_id,
                    ids=[run.schedule_id for run in found.items],
                )
        except service.InvalidInput as error:
            self.filter_error = str(error)
            return rx.toast.error(str(error))
        now = services.now()
        self._fetched_at = clock.monotonic()
        self.rows = [run_row(run, names, now) for run in found.items]
        self.next_cursor = found.next_cursor or ""
        return None

    def _refetch(self):
        access = self._access()
        if access is None:
            return self._to_login()
        return self._fetch(access)

    def _first_page(self):
        self.cursors, self.page_cursor = [], ""
        return self._refetch()

    @rx.event
    def set_schedule_filter(self, value: str):
        self.schedule_filter = value
        return self._first_page()

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter = value
        return self._first_page()

    @rx.event
    def set_since(self, value: str):
        self.since = value
        return self._first_page()

    @rx.event
    def set_until(self, value: str):
        self.until = value
        return self._first_page()

    @rx.event
    def clear_filters(self):
        self.schedule_filter = self.status_filter = ALL
        self.since = self.until = ""
        return self._first_page()

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

    @rx.event
    def set_live(self, value: bool):
        self.live = value

    @rx.event
    def tick(self, _: str = ""):
        """New runs appear without a reload: the first page is fetched again on a timer."""
        fresh = clock.monotonic() - self._fetched_at < REFRESH_MS / 2000
        if self.live and self.loaded and not fresh and not self.cursors and not self.page_cursor:
            return self._refetch()
        return None


def log_row(row: rx.Var) -> rx.Component:
    """Plain elements, styled in hookboard.css: fifty rows render several times faster
    than with a themed component in every cell."""
    status = row["status"].to(str)
    return rx.el.tr(
        rx.el.td(rx.el.a(f"#{row['id']}", href=row["href"], class_name="hb-link strong")),
        rx.el.td(
            rx.el.span(
                status,
                class_name="hb-badge run-status",
                data_status=status,
                data_accent_color=rx.match(status, *RUN_STATUS_COLORS.items(), "gray"),
            )
        ),
        rx.el.td(rx.el.a(row["schedule"], href=row["schedule_href"], class_name="hb-link")),
        rx.el.td(row["when"], title=row["at"], class_name="nowrap"),
        rx.el.td(row["attempts"]),
        rx.el.td(rx.el.code(row["code"])),
        rx.el.td(row["latency"], class_name="nowrap"),
        rx.el.td(row["error"], class_name="muted"),
        class_name="run-row",
        data_status=status,
    )


def runs_table() -> rx.Component:
    headers = ("Run", "Status", "Schedule", "Scheduled", "Attempts", "HTTP", "Latency", "Error")
    return rx.box(
        rx.el.table(
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in headers])),
            rx.el.tbody(rx.foreach(LogsState.rows, log_row)),
            class_name="hb-table",
            id="runs-table",
        ),
        width="100%",
        overflow_x="auto",
    )


def filters() -> rx.Component:
    S = LogsState
    schedule_select = rx.select.root(
        rx.select.trigger(id="filter-schedule", width="100%"),
        rx.select.content(
            rx.select.item("All schedules", value=ALL),
            rx.foreach(S.schedules, lambda s: rx.select.item(s["name"], value=s["id"])),
        ),
        value=S.schedule_filter,
        on_change=S.set_schedule_filter,
    )
    status_select = rx.select.root(
        rx.select.trigger(id="filter-status", width="100%"),
        rx.select.content(
            rx.select.item("All statuses", value=ALL),
            *[rx.select.item(status.value, value=status.value) for status in RunStatus],
        ),
        value=S.status_filter,
        on_change=S.set_status_filter,
    )
    return rx.grid(
        field("Schedule", schedule_select, html_for="filter-schedule"),
        field("Status", status_select, html_for="filter-status"),
        field(
            "From (UTC day)",
            rx.input(type="date", id="filter-since", value=S.since, on_change=S.set_since),
            html_for="filter-since",
        ),
        field(
            "To (UTC day)",
            rx.input(type="date", id="filter-until", value=S.until, on_change=S.set_until),
            html_for="filter-until",
        ),
        columns=rx.breakpoints(initial="1", sm="2", md="4"),
        spacing="3",
        width="100%",
    )


def live_toggle() -> rx.Component:
    return rx.hstack(
        rx.el.label(
            rx.hstack(
                rx.switch(checked=LogsState.live, on_change=LogsState.set_live, id="live-switch"),
                rx.text("Live", size="2"),
                align="center",
            ),
            html_for="live-switch",
        ),
        rx.cond(
            LogsState.live,
            # Re-renders every REFRESH_MS; each change asks the backend for the first page again.
            rx.moment(
                interval=REFRESH_MS,
                format="HH:mm:ss",
                on_change=LogsState.tick,
                color=rx.color("gray", 10),
                font_size="12px",
            ),
        ),
        align="center",
        spacing="3",
    )


def pager() -> rx.Component:
    return keyset_pager(
        on_newer=LogsState.newer,
        on_older=LogsState.older,
        at_newest=LogsState.cursors.length() == 0,
        at_oldest=LogsState.next_cursor == "",
        newer_id="newer-page",
        older_id="older-page",
    )


def view() -> rx.Component:
    return page(
        "Logs",
        filters(),
        rx.cond(
            LogsState.rows.length() > 0,
            runs_table(),
            rx.cond(
                LogsState.loaded,
                rx.callout(
                    "No run matches yet. Runs appear here as schedules fire.",
                    icon="info",
                    width="100%",
                    id="no-runs",
                ),
            ),
        ),
        pager(),
        actions=rx.hstack(
            live_toggle(),
            rx.button("Clear filters", variant="ghost", on_click=LogsState.clear_filters),
            align="center",
        ),
    )
