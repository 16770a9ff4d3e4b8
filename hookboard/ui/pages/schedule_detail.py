"""A schedule: its configuration, latency and outcome of its latest runs, and those runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import format as fmt
from hookboard.ui import routes, schedule_actions, services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import confirm_guarded, guarded, run_badge, schedule_badge
from hookboard.ui.pages.logs import run_row
from hookboard.ui.pages.run_detail import path_id
from hookboard.ui.schedule_summary import CHART_KEYS, badge_links, chart_points, configuration
from hookboard.ui.state import AuthState

CHART_RUNS = 50
LISTED_RUNS = 20


class ScheduleDetailState(AuthState):
    info: dict[str, Any] = {}
    badge: dict[str, str] = {}
    config_rows: list[dict[str, str]] = []
    stats: dict[str, str] = {}
    points: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []

    def _schedule_ref(self) -> int:
        return path_id(self.router.url.path, 1)

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            self._load(access, self._schedule_ref())
        except (ValueError, IndexError, service.NotFound):
            return [rx.redirect(routes.SCHEDULES), rx.toast.error("Schedule not found")]
        return None

    def _load(self, access: Access, schedule_id: int) -> None:
        now = services.now()
        with services.db() as session:
            schedule = service.get_schedule(
                session, workspace_id=access.workspace_id, schedule_id=schedule_id
            )
            target = (
                service.get_target(
                    session, workspace_id=access.workspace_id, target_id=schedule.target_id
                )
                if schedule.target_id
                else None
            )
            stats = service.schedule_stats(
                session,
                workspace_id=access.workspace_id,
                schedule_id=schedule_id,
                window=timedelta(hours=24),
                now=now,
            )
            latest = service.list_runs(
                session, workspace_id=access.workspace_id, schedule_id=schedule_id, limit=CHART_RUNS
            ).items
        names = {schedule.id: schedule.name}
        self.info = {
            "id": schedule.id,
            "name": schedule.name,
            "status": schedule.status,
            "edit_href": routes.edit_schedule(schedule.id),
            "logs_href": f"{routes.LOGS}?schedule={schedule.id}",
            "paused_reason": schedule.paused_reason or "",
            "failing": fmt.failing_summary(
                schedule.consecutive_failures, schedule.failing_since, now
            ),
            "failing_at": fmt.absolute(schedule.failing_since),
        }
        self.badge = badge_links(schedule.badge_token, self.router.url.origin, schedule.name)
        self.config_rows = configuration(schedule, target.name if target else None)
        self.stats = {
            "runs": str(stats.runs["total"]),
            "success": fmt.percentage(stats.success_rate),
            "p50": fmt.latency(stats.latency_ms["p50"]),
            "p95": fmt.latency(stats.latency_ms["p95"]),
        }
        self.points = chart_points(latest)
        self.runs = [run_row(run, names, now) for run in latest[:LISTED_RUNS]]

    def _act(self, action, done):
        access = self._access()
        if access is None:
            return self._to_login()
        schedule_id = int(self.info.get("id", 0))
        try:
            result = action(access, schedule_id)
        except service.ServiceError as error:
            return rx.toast.error(schedule_actions.error_message(error))
        if action is schedule_actions.delete:
            return [rx.redirect(routes.SCHEDULES), rx.toast.success(done(result))]
        self._load(access, schedule_id)
        return rx.toast.success(done(result))

    @rx.event
    def pause(self):
        return self._act(schedule_actions.pause, str)

    @rx.event
    def resume(self):
        return self._act(schedule_actions.resume, str)

    @rx.event
    def run_now(self):
        return self._act(schedule_actions.run_now, lambda run_id: f"Run {run_id} queued")

    @rx.event
    def delete(self):
        return self._act(schedule_actions.delete, str)

    @rx.event
    def refresh(self):
        return self.load()

    @rx.event
    def copy_badge(self, key: str):
        what = "Markdown" if key == "markdown" else "Badge URL"
        return [rx.set_clipboard(self.badge.get(key, "")), rx.toast.success(f"{what} copied")]


S = ScheduleDetailState


def stat(label: str, value: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.heading(value, size="5")),
        width="100%",
    )


def latency_chart() -> rx.Component:
    bars = [
        rx.recharts.bar(data_key=key, stack_id="latency", fill=fmt.OUTCOME_FILLS[key])
        for key in CHART_KEYS
    ]
    return rx.card(
        rx.vstack(
            rx.heading(f"Latency and outcome, last {CHART_RUNS} runs (ms)", size="4"),
            rx.recharts.bar_chart(
                *bars,
                rx.recharts.x_axis(data_key="run", font_size=10),
                rx.recharts.y_axis(font_size=11, width=48),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                data=S.points,
                width="100%",
                height=240,
            ),
            width="100%",
        ),
        width="100%",
    )


def config_card() -> rx.Component:
    return rx.card(
        rx.data_list.root(
            rx.foreach(
                S.config_rows,
                lambda row: rx.data_list.item(
                    rx.data_list.label(row["label"]),
                    rx.data_list.value(rx.text(row["value"], word_break="break-word")),
                ),
            ),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
        width="100%",
    )


def runs_card() -> rx.Component:
    def row(run: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.link(f"#{run['id']}", href=run["href"])),
            rx.table.cell(run_badge(run["status"])),
            rx.table.cell(rx.text(run["when"], title=run["at"])),
            rx.table.cell(run["attempts"]),
            rx.table.cell(run["code"]),
            rx.table.cell(run["latency"]),
        )

    headers = ("Run", "Status", "Scheduled", "Attempts", "HTTP", "Latency")
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Latest runs", size="4"),
                rx.spacer(),
                rx.link("All of its runs", href=S.info["logs_href"].to(str)),
                width="100%",
            ),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                rx.table.body(rx.foreach(S.runs, row)),
                width="100%",
                size="1",
            ),
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def actions() -> rx.Component:
    status = S.info["status"].to(str)
    return rx.hstack(
        rx.cond(
            status == "paused",
            guarded(
                rx.button(
                    rx.icon("play", size=14),
                    "Resume",
                    color_scheme="green",
                    variant="soft",
                    on_click=S.resume,
                ),
                AuthState.deny_write,
            ),
            guarded(
                rx.button(
                    rx.icon("pause", size=14),
                    "Pause",
                    color_scheme="amber",
                    variant="soft",
                    on_click=S.pause,
                    disabled=status == "completed",
                ),
                AuthState.deny_write,
            ),
        ),
        guarded(
            rx.button(rx.icon("zap", size=14), "Run now", variant="soft", on_click=S.run_now),
            AuthState.deny_write,
        ),
        rx.cond(
            AuthState.deny_write != "",
            guarded(
                rx.button(rx.icon("pencil", size=14), "Edit", variant="soft", color_scheme="gray"),
                AuthState.deny_write,
            ),
            rx.link(
                rx.button(rx.icon("pencil", size=14), "Edit", variant="soft", color_scheme="gray"),
                href=S.info["edit_href"].to(str),
            ),
        ),
        confirm_guarded(
            rx.button(rx.icon("trash-2", size=14), "Delete", variant="soft", color_scheme="red"),
            AuthState.deny_write,
            title="Delete this schedule?",
            text="The schedule and all of its runs and attempts will be deleted.",
            confirm_label="Delete",
            on_confirm=S.delete,
        ),
        wrap="wrap",
    )


def health_callouts() -> rx.Component:
    """Why it paused itself, or how long it has been failing."""
    reason = S.info["paused_reason"].to(str)
    return rx.fragment(
        rx.cond(
            reason != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-pause")),
                rx.callout.text(
                    rx.text.strong("Auto-paused: "),
                    reason,
                    ". Resume it once the endpoint is fixed; the count starts over.",
                ),
                color_scheme="red",
                id="paused-reason",
            ),
        ),
        rx.cond(
            (reason == "") & (S.info["failing"].to(str) != ""),
            rx.callout(
                S.info["failing"].to(str),
                icon="triangle-alert",
                color_scheme="red",
                title=S.info["failing_at"].to(str),
                id="failing-since",
            ),
        ),
    )


def copy_row(label: str, key: str, element_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.hstack(
            rx.code(S.badge[key], id=element_id, word_break="break-all", flex="1"),
            rx.icon_button(
                rx.icon("copy", size=14),
                variant="soft",
                size="1",
                on_click=S.copy_badge(key),
                aria_label=f"Copy the {label.lower()}",
            ),
            align="center",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def badge_card() -> rx.Component:
    """Shown while the public status badge is on (the editor's switch)."""
    return rx.cond(
        S.badge.contains("url"),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Public status badge", size="4"),
                    rx.image(src=S.badge["path"], alt="status badge", id="badge-image"),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                rx.text(
                    "Anyone with this URL sees whether the schedule passes, and nothing else. "
                    "Turning the badge off in the editor retires the URL.",
                    size="2",
                    color_scheme="gray",
                ),
                copy_row("Badge URL", "url", "badge-url"),
                copy_row("Markdown", "markdown", "badge-markdown"),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def view() -> rx.Component:
    return page(
        "Schedule",
        rx.hstack(
            rx.heading(S.info["name"].to(str), size="5"),
            schedule_badge(S.info["status"].to(str)),
            rx.spacer(),
            actions(),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        health_callouts(),
        config_card(),
        badge_card(),
        rx.grid(
            stat("Runs, 24 h", S.stats["runs"]),
            stat("Success rate", S.stats["success"]),
            stat("p50 latency", S.stats["p50"]),
            stat("p95 latency", S.stats["p95"]),
            columns=rx.breakpoints(initial="2", md="4"),
            spacing="3",
            width="100%",
        ),
        latency_chart(),
        runs_card(),
    )
