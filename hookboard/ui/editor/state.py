"""The schedule editor's state: the form, live checks, preview, test request, save."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard import services as service
from hookboard.core.redaction import redact_headers
from hookboard.models import Target
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import format as fmt
from hookboard.ui import routes, services
from hookboard.ui.editor import form as form_rules
from hookboard.ui.state import AuthState

TIMING_KEYS = {"kind", "cron", "timezone", "every", "unit", "run_at", "starts_at", "ends_at"}
PREVIEW_FORMAT = "%a %Y-%m-%d %H:%M:%S %Z"


class EditorState(AuthState):
    schedule_ref: int = 0  # the schedule being edited; 0 for a new one
    form: dict[str, Any] = dict(form_rules.DEFAULT_FORM)
    errors: dict[str, str] = form_rules.no_errors()
    targets: list[dict[str, str]] = []
    preview_words: str = ""
    preview_next: list[str] = []
    body_ok: bool = True
    body_message: str = ""
    test_result: dict[str, Any] = {}
    testing: bool = False
    saving: bool = False

    # ------------------------------------------------------------------ loading

    def _load_targets(self, access: Access) -> None:
        with services.db() as session:
            page = service.list_targets(
                session, workspace_id=access.workspace_id, limit=service.MAX_PAGE_SIZE
            )
        self.targets = [{"id": str(t.id), "name": t.name} for t in page.items]

    def _reset(self, form: dict[str, Any], schedule_ref: int) -> None:
        self.schedule_ref = schedule_ref
        self.form = form
        self.errors = form_rules.no_errors()
        self.test_result = {}
        self.testing = self.saving = False
        self._preview()
        self._check_body()

    @rx.event
    def load_new(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self._load_targets(access)
        self._reset(dict(form_rules.DEFAULT_FORM, headers=[]), 0)

    @rx.event
    def load_existing(self):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            schedule_id = int(self.router.url.path.strip("/").split("/")[1])
            with services.db() as session:
                schedule = service.get_schedule(
                    session, workspace_id=access.workspace_id, schedule_id=schedule_id
                )
        except (ValueError, IndexError, service.NotFound):
            return [rx.redirect(routes.SCHEDULES), rx.toast.error("Schedule not found")]
        self._load_targets(access)
        self._reset(form_rules.from_schedule(schedule), schedule.id)

    # ------------------------------------------------------------------ live checks

    @rx.event
    def set_field(self, name: str, value: Any):
        self.form[name] = value
        self.errors[error_key(name)] = ""
        if name in TIMING_KEYS:
            self._preview()
        if name == "body":
            self._check_body()

    def _preview(self) -> None:
        self.errors["cron"] = ""
        try:
            timing = form_rules.timing_fields(self.form)
            result = service.preview_schedule(timing, now=services.now())
        except service.InvalidInput as error:
            self.preview_words, self.preview_next = "", []
            self.errors[error.field or "cron"] = error.message
            return
        zone = form_rules.zone_of(self.form["timezone"])
        self.preview_words = result.description
        self.preview_next = [
            instant.astimezone(zone).strftime(PREVIEW_FORMAT) for instant in result.next
        ]

    def _check_body(self) -> None:
        self.body_ok, self.body_message = form_rules.json_check(self.form["body"])

    @rx.event
    def add_header(self):
        self.form["headers"].append({"name": "", "value": ""})

    @rx.event
    def remove_header(self, index: int):
        self.form["headers"].pop(index)

    @rx.event
    def set_header(self, index: int, part: str, value: str):
        self.form["headers"][index][part] = value
        self.errors["request.headers"] = ""

    # ------------------------------------------------------------------ test request

    def _outbound_fields(self, access: Access) -> dict[str, Any]:
        """The request as a run would send it: the target's, overridden by the form's fields."""
        fields = form_rules.request_fields(self.form)
        target_id = fields.pop("target_id")
        merged: dict[str, Any] = {"headers": {}}
        if target_id is not None:
            with services.db() as session:
                target: Target = service.get_target(
                    session, workspace_id=access.workspace_id, target_id=target_id
                )
            merged = {
                "url": target.url,
                "method": target.method,
                "headers": dict(target.headers or {}),
                "body": target.body,
            }
        for name in ("url", "method", "body"):
            if fields[name] is not None:
                merged[name] = fields[name]
        merged["headers"] = {**merged["headers"], **fields["headers"]}
        merged["timeout_seconds"] = _float_or_none(self.form["timeout_seconds"])
        merged["follow_redirects"] = bool(self.form["follow_redirects"])
        return merged

    @rx.event
    async def send_test(self):
        access = self._access()
        if access is None:
            yield self._to_login()
            return
        try:
            with services.db() as session:
                outbound, secrets = service.prepare_test_delivery(
                    session,
                    self._outbound_fields(access),
                    access=access,
                    config=services.config(),
                    now=services.now(),
                )
        except service.ServiceError as error:
            self._show_error(error)
            yield rx.toast.error(f"Not sent: {error}")
            return
        self.testing, self.test_result = True, {}
        yield
        outcome = await service.send_test_delivery(
            outbound, secrets=secrets, config=services.config()
        )
        self.testing = False
        self.test_result = {
            "status": str(outcome.status_code or "—"),
            "ok": outcome.error_class == "success",
            "error_class": outcome.error_class,
            "error_message": outcome.error_message or "",
            "latency": fmt.latency(outcome.latency_ms),
            "headers": "\n".join(
                f"{k}: {v}" for k, v in redact_headers(outcome.response_headers).items()
            ),
            "body": outcome.body_excerpt[:4000],
        }
        if outcome.error_class == "success":
            yield rx.toast.success(f"Test request answered {outcome.status_code}")
        else:
            yield rx.toast.error(f"Test request failed: {outcome.error_class}")

    # ------------------------------------------------------------------ save

    def _show_error(self, error: service.ServiceError) -> None:
        field = getattr(error, "field", None)
        if field in self.errors:
            self.errors[field] = getattr(error, "message", str(error))

    @rx.event
    def save(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self.errors = form_rules.no_errors()
        try:
            fields = form_rules.to_fields(self.form)
            schedule_id = self._write(access, fields)
        except service.ServiceError as error:
            self._show_error(error)
            return rx.toast.error(f"Not saved: {error}")
        services.wake()
        verb = "updated" if self.schedule_ref else "created"
        return [rx.redirect(routes.schedule(schedule_id)), rx.toast.success(f"Schedule {verb}")]

    def _write(self, access: Access, fields: dict[str, Any]) -> int:
        with services.db() as session:
            if self.schedule_ref:
                schedule = service.update_schedule(
                    session,
                    access=access,
                    schedule_id=self.schedule_ref,
                    changes=fields,
                    now=services.now(),
                    config=services.config(),
                )
            else:
                schedule = service.create_schedule(
                    session,
                    access=access,
                    fields=fields,
                    now=services.now(),
                    config=services.config(),
                )
            session.commit()
            return schedule.id


def error_key(name: str) -> str:
    if name in ("url", "method", "headers", "body"):
        return f"request.{name}"
    if name in ("max_attempts", "backoff", "base_delay_seconds", "max_delay_seconds"):
        return f"retry.{name}"
    return name


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
