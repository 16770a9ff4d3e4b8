"""A run and its attempts: what was sent (secrets masked) and what came back; replay."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.core.redaction import redact_headers
from hookboard.models import Attempt, RunStatus
from hookboard.services import crud, run_actions
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import format as fmt
from hookboard.ui import routes, services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import guarded, run_badge
from hookboard.ui.state import AuthState


def path_id(path: str, position: int) -> int:
    """The number at `position` of a path such as /runs/42 (position 1)."""
    return int(path.strip("/").split("/")[position])


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    def lines(headers: dict[str, str]) -> str:
        return "\n".join(f"{k}: {v}" for k, v in redact_headers(headers or {}).items())

    return {
        "number": attempt.number,
        "started": fmt.absolute(attempt.started_at),
        "latency": fmt.latency(attempt.latency_ms),
        "error_class": attempt.error_class,
        "ok": attempt.error_class == "success",
        "error_message": attempt.error_message or "",
        "status": str(attempt.status_code or "—"),
        "request_line": f"{attempt.request_method} {attempt.request_url}",
        "request_headers": lines(attempt.request_headers),
        "request_body": attempt.request_body or "",
        "response_headers": lines(attempt.response_headers),
        "response_body": attempt.response_body or "",
    }


class RunDetailState(AuthState):
    run: dict[str, Any] = {}
    attempts: list[dict[str, Any]] = []

    def _load(self, access: Access) -> bool:
        try:
            with services.db() as session:
                run = service.get_run(
                    session,
                    workspace_id=access.workspace_id,
                    run_id=path_id(self.router.url.path, 1),
                )
                attempts = service.run_attempts(session, run=run)
                schedule_name = service.get_schedule(
                    session, workspace_id=access.workspace_id, schedule_id=run.schedule_id
                ).name
        except (ValueError, IndexError, service.NotFound):
            return False
        self.run = {
            "id": run.id,
            "status": run.status,
            "schedule": schedule_name,
            "schedule_href": routes.schedule(run.schedule_id),
            "scheduled_for": fmt.absolute(run.scheduled_for),
            "trigger": run.trigger,
            "attempts": f"{run.attempt_count}/{run.max_attempts}",
            "latency": fmt.latency(run.latency_ms),
            "error": run.error_class or "—",
            "next_attempt": fmt.absolute(run.next_attempt_at) if run.next_attempt_at else "",
            "replayable": run.status == RunStatus.failed,
        }
        self.attempts = [attempt_view(attempt) for attempt in reversed(attempts)]
        return True

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        if not self._load(access):
            return [rx.redirect(routes.LOGS), rx.toast.error("Run not found")]
        return None

    @rx.event
    def refresh(self):
        return self.load()

    @rx.event
    def replay(self):
        access = self._access()
        if access is None:
            return self._to_login()
        run_id = int(self.run.get("id", 0))
        try:
            with services.db() as session:
                service.get_run(session, workspace_id=access.workspace_id, run_id=run_id)
            run_actions.replay(
                services.engine(),
                services.queue(),
                access=access,
                run_id=run_id,
                lease_grace=services.lease_grace(),
            )
        except crud.NotReplayableError:
            return rx.toast.error("Only a failed run can be replayed")
        except (service.NotFound, run_actions.GoneError):
            return rx.toast.error("This run no longer exists")
        self._load(access)
        return rx.toast.success(f"Run {run_id} replayed: one more attempt is queued")


def summary() -> rx.Component:
    run = RunDetailState.run

    def item(label: str, value) -> rx.Component:
        return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))

    return rx.card(
        rx.data_list.root(
            item("Status", run_badge(run["status"].to(str))),
            item("Schedule", rx.link(run["schedule"].to(str), href=run["schedule_href"].to(str))),
            item("Scheduled for", run["scheduled_for"].to(str)),
            item("Trigger", run["trigger"].to(str)),
            item("Attempts", run["attempts"].to(str)),
            item("Latency", run["latency"].to(str)),
            item("Error class", run["error"].to(str)),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
        width="100%",
    )


def block(title: str, text: rx.Var) -> rx.Component:
    return rx.cond(
        text != "",
        rx.vstack(
            rx.text(title, size="1", weight="bold", color_scheme="gray"),
            rx.box(
                rx.el.pre(text, class_name="hb-pre"),
                padding="8px",
                border_radius="6px",
                background=rx.color("gray", 3),
                width="100%",
                max_height="240px",
                overflow="auto",
            ),
            spacing="1",
            width="100%",
        ),
    )


def attempt_card(attempt: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(f"Attempt {attempt['number']}", size="3"),
                rx.badge(
                    attempt["error_class"].to(str),
                    color_scheme=rx.cond(attempt["ok"].to(bool), "green", "red"),
                    class_name="attempt-class",
                ),
                rx.text("HTTP ", rx.code(attempt["status"].to(str)), size="2"),
                rx.text(attempt["latency"].to(str), size="2", color_scheme="gray"),
                rx.spacer(),
                rx.text(attempt["started"].to(str), size="1", color_scheme="gray"),
                wrap="wrap",
                align="center",
                width="100%",
            ),
            rx.cond(
                attempt["error_message"].to(str) != "",
                rx.text(attempt["error_message"].to(str), size="2", color_scheme="red"),
            ),
            rx.grid(
                rx.vstack(
                    rx.text("Request", weight="medium"),
                    rx.code(attempt["request_line"].to(str), word_break="break-all"),
                    block("Headers (secrets masked)", attempt["request_headers"].to(str)),
                    block("Body", attempt["request_body"].to(str)),
                    spacing="2",
                    min_width="0",
                ),
                rx.vstack(
                    rx.text("Response", weight="medium"),
                    block("Headers", attempt["response_headers"].to(str)),
                    block("Body excerpt", attempt["response_body"].to(str)),
                    spacing="2",
                    min_width="0",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="attempt",
    )


def view() -> rx.Component:
    run = RunDetailState.run
    return page(
        "Run",
        summary(),
        rx.heading("Attempts", size="5"),
        rx.cond(
            RunDetailState.attempts.length() > 0,
            rx.vstack(rx.foreach(RunDetailState.attempts, attempt_card), width="100%", spacing="3"),
            rx.text("No attempt yet.", color_scheme="gray"),
        ),
        actions=rx.hstack(
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="soft",
                color_scheme="gray",
                on_click=RunDetailState.refresh,
            ),
            rx.cond(
                run["replayable"].to(bool),
                guarded(
                    rx.button(
                        rx.icon("rotate-ccw", size=14),
                        "Replay",
                        color_scheme="red",
                        on_click=RunDetailState.replay,
                        id="replay",
                    ),
                    AuthState.deny_write,
                ),
            ),
            rx.link(rx.button("All runs", variant="soft"), href=routes.LOGS),
        ),
    )
