"""Overview: headline cards, runs per hour by outcome, the latest failures."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard.services import dashboard as queries
from hookboard.ui import format as fmt
from hookboard.ui import routes, services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import empty_state, guarded_link, stat_card
from hookboard.ui.state import AuthState


class OverviewState(AuthState):
    active_schedules: str = "—"
    runs_24h: str = "—"
    success_rate: str = "—"
    p95_latency: str = "—"
    chart: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        now = services.now()
        with services.db() as session:
            figures = queries.overview(session, workspace_id=access.workspace_id, now=now)
            self.chart = queries.runs_per_hour(session, workspace_id=access.workspace_id, now=now)
            failures = queries.latest_failures(session, workspace_id=access.workspace_id)
        self.active_schedules = str(figures.active_schedules)
        self.runs_24h = f"{figures.runs_24h:,}"
        self.success_rate = fmt.percentage(figures.success_rate)
        self.p95_latency = fmt.latency(figures.p95_latency_ms)
        self.failures = [
            {
                "href": routes.run(failure.run_id),
                "schedule": failure.schedule_name,
                "schedule_href": routes.schedule(failure.schedule_id),
                "when": fmt.relative(failure.scheduled_for, now),
                "at": fmt.absolute(failure.scheduled_for),
                "error": " · ".join(
                    str(part) for part in (failure.error_class, failure.status_code) if part
                ),
            }
            for failure in failures
        ]


def runs_chart() -> rx.Component:
    bars = [
        rx.recharts.bar(data_key=outcome, stack_id="runs", fill=fmt.OUTCOME_FILLS[outcome])
        for outcome in queries.CHART_OUTCOMES
    ]
    return rx.card(
        rx.vstack(
            rx.heading("Runs per hour, last 24 h (UTC)", size="4"),
            rx.recharts.bar_chart(
                *bars,
                rx.recharts.x_axis(data_key="hour", font_size=11),
                rx.recharts.y_axis(allow_decimals=False, font_size=11, width=40),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                data=OverviewState.chart,
                width="100%",
                height=280,
            ),
            width="100%",
        ),
        width="100%",
    )


def failure_row(failure: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(failure["schedule"], href=failure["schedule_href"])),
        rx.table.cell(rx.text(failure["when"], title=failure["at"])),
        rx.table.cell(rx.code(failure["error"], variant="ghost")),
        rx.table.cell(rx.link("Open run", href=failure["href"])),
    )


def failures_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Latest failures", size="4"),
            rx.cond(
                OverviewState.failures.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Schedule", "When", "Error", "")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(OverviewState.failures, failure_row)),
                    width="100%",
                    size="1",
                ),
                rx.text("No failed runs. Everything delivered.", color_scheme="gray"),
            ),
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def view() -> rx.Component:
    return page(
        "Overview",
        rx.grid(
            stat_card(
                "Active schedules", OverviewState.active_schedules, "calendar-check", "stat-active"
            ),
            stat_card("Runs, last 24 h", OverviewState.runs_24h, "activity", "stat-runs"),
            stat_card("Success rate", OverviewState.success_rate, "circle-check", "stat-success"),
            stat_card("p95 latency", OverviewState.p95_latency, "timer", "stat-p95"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            (OverviewState.active_schedules == "0") & (OverviewState.runs_24h == "0"),
            empty_state(
                "calendar-plus",
                "Nothing scheduled yet",
                "Create a schedule and Hookboard calls your endpoint on time, signed and retried.",
                guarded_link(
                    rx.button("Create a schedule"), routes.NEW_SCHEDULE, AuthState.deny_write
                ),
            ),
        ),
        runs_chart(),
        failures_card(),
        actions=guarded_link(
            rx.button(rx.icon("plus", size=16), "New schedule"),
            routes.NEW_SCHEDULE,
            AuthState.deny_write,
        ),
    )
