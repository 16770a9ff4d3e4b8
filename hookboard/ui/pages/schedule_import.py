"""Export (a download) and import (paste or upload, a dry run first, then apply) of
schedules and targets, on the Schedules page."""

from __future__ import annotations

import reflex as rx

from hookboard import services as service
from hookboard.services.credentials import WORKSPACE_HEADER
from hookboard.ui import schedule_transfer as transfer
from hookboard.ui import services
from hookboard.ui.components.widgets import guarded
from hookboard.ui.state import AuthState

UPLOAD_ID = "import-file"
ACTION_COLORS = {"create": "green", "update": "amber", "unchanged": "gray"}


class ImportState(AuthState):
    dialog_open: bool = False
    text: str = ""  # may hold secrets (an export with them): cleared when the dialog closes
    file_name: str = ""
    checked: bool = False  # a dry run of exactly this text passed
    has_changes: bool = False
    summary: str = ""
    rows: list[dict[str, str]] = []
    error: str = ""
    busy: bool = False

    def _clear_result(self) -> None:
        self.checked = self.has_changes = False
        self.summary, self.rows, self.error = "", [], ""

    def _close(self) -> None:
        self.dialog_open = False
        self.text, self.file_name = "", ""
        self._clear_result()

    @rx.event
    def set_open(self, value: bool):
        if value:
            self.dialog_open = True
        else:
            self._close()

    @rx.event
    def set_text(self, value: str):
        self.text, self.file_name = value, ""
        self._clear_result()

    @rx.event
    async def read_file(self, files: list[rx.UploadFile]):
        # ui/upload_guard.py checked the session and the size before Reflex read the body.
        if self._access() is None:
            return self._to_login()
        if not files:
            return None
        data = await files[0].read(transfer.MAX_DOCUMENT_BYTES + 1)
        self._clear_result()
        if len(data) > transfer.MAX_DOCUMENT_BYTES:
            self.error = "document: the file is too large"
            return rx.toast.error(self.error)
        try:
            self.text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.error = "document: the file is not UTF-8 text"
            return rx.toast.error(self.error)
        self.file_name = files[0].filename or "file"
        return ImportState.check

    @rx.event
    def check(self):
        """The dry run: validates everything and reports what would change."""
        access = self._access()
        if access is None:
            return self._to_login()
        self._clear_result()
        try:
            report = transfer.run_import(access, self.text, dry_run=True)
        except service.ServiceError as error:
            self.error = str(error)
            return rx.toast.error(f"Not importable: {error}")
        self.checked = True
        self.has_changes = transfer.changes_anything(report)
        self.summary = transfer.summary(report)
        self.rows = transfer.report_rows(report)
        return None

    @rx.event
    def apply(self):
        access = self._access()
        if access is None:
            return self._to_login()
        if not self.checked:
            return rx.toast.error("Check the document first")
        try:
            report = transfer.run_import(access, self.text, dry_run=False)
        except service.ServiceError as error:
            self.checked, self.error = False, str(error)
            return rx.toast.error(f"Nothing imported: {error}")
        services.wake()
        self._close()
        return rx.toast.success(f"Imported: {transfer.summary(report)}")

    @rx.event
    def export(self, include_secrets: bool):
        access = self._access()
        if access is None:
            return self._to_login()
        name, text = transfer.export_text(access, include_secrets=bool(include_secrets))
        return [
            rx.download(data=text, filename=name, mime_type="application/json"),
            rx.toast.success(f"Exported {name}"),
        ]


S = ImportState


def export_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("download", size=16),
                "Export",
                rx.icon("chevron-down", size=14),
                variant="soft",
                color_scheme="gray",
                id="export-schedules",
            )
        ),
        rx.menu.content(
            rx.menu.item("Export (secret headers masked)", on_select=S.export(False)),
            rx.menu.item(
                rx.cond(
                    AuthState.deny_export_secrets != "",
                    "Export with secrets: " + AuthState.deny_export_secrets,
                    "Export with secrets (a full backup)",
                ),
                on_select=S.export(True),
                disabled=AuthState.deny_export_secrets != "",
            ),
        ),
    )


def upload_zone() -> rx.Component:
    return rx.upload.root(
        rx.hstack(
            rx.button(
                rx.icon("file-up", size=14), "Choose a JSON file", variant="soft", type="button"
            ),
            rx.text("or drop it here", size="1", color_scheme="gray"),
            rx.cond(S.file_name != "", rx.code(S.file_name, size="1")),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        accept={"application/json": [".json"]},
        max_files=1,
        multiple=False,
        # The session token goes along: ui/upload_guard.py refuses an upload without one.
        on_drop=S.read_file(
            rx.upload_files(
                upload_id=UPLOAD_ID,
                extra_headers={
                    "Authorization": "Bearer " + S.token,
                    WORKSPACE_HEADER: S.workspace_ref,
                },
            )
        ),
        max_size=transfer.MAX_DOCUMENT_BYTES,
    )


def report_table() -> rx.Component:
    def row(item: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(item["type"]),
            rx.table.cell(rx.text(item["name"], weight="medium")),
            rx.table.cell(
                rx.badge(
                    item["action"],
                    color_scheme=rx.match(item["action"], *ACTION_COLORS.items(), "gray"),
                    variant="soft",
                )
            ),
            rx.table.cell(rx.text(item["changes"], size="1", color_scheme="gray")),
            class_name="import-row",
            data_action=item["action"],
        )

    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ("Kind", "Name", "Action", "Fields")]
                )
            ),
            rx.table.body(rx.foreach(S.rows, row)),
            size="1",
            width="100%",
        ),
        max_height="240px",
        overflow_y="auto",
        width="100%",
    )


def result() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", id="import-error"),
        ),
        rx.cond(
            S.checked,
            rx.vstack(
                rx.callout(
                    rx.cond(
                        S.has_changes,
                        "Dry run: " + S.summary + ". Nothing is written until you apply it.",
                        "Dry run: no change. " + S.summary + ".",
                    ),
                    icon=rx.cond(S.has_changes, "info", "circle-check"),
                    color_scheme=rx.cond(S.has_changes, "blue", "green"),
                    id="import-summary",
                ),
                report_table(),
                width="100%",
            ),
        ),
    )


def import_dialog(on_applied) -> rx.Component:
    """`on_applied`: the event that reloads the page after an import."""
    button = rx.button(
        rx.icon("upload", size=16),
        "Import",
        variant="soft",
        color_scheme="gray",
        id="import-schedules",
    )
    dialog = rx.dialog.root(
        rx.dialog.trigger(button),
        rx.dialog.content(
            rx.dialog.title("Import schedules and targets"),
            rx.dialog.description(
                "An export from Hookboard (this account or another). Names match: new ones "
                "are created, known ones updated; nothing else is touched. A dry run shows "
                "what would change first; applying it is all or nothing.",
                size="2",
                margin_bottom="12px",
            ),
            rx.vstack(
                upload_zone(),
                rx.el.label(rx.text("Or paste the JSON", size="2"), html_for="import-json"),
                rx.text_area(
                    id="import-json",
                    value=S.text,
                    on_change=S.set_text,
                    rows="8",
                    font_family="monospace",
                    placeholder='{"version": 1, "targets": [], "schedules": [...]}',
                    width="100%",
                ),
                result(),
                rx.hstack(
                    rx.dialog.close(
                        rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                    ),
                    rx.button(
                        rx.icon("search-check", size=14),
                        "Dry run",
                        variant="outline",
                        on_click=S.check,
                        id="import-check",
                    ),
                    rx.button(
                        rx.icon("check", size=14),
                        "Apply import",
                        on_click=[S.apply, on_applied],
                        disabled=~S.checked | ~S.has_changes,
                        id="import-apply",
                    ),
                    justify="end",
                    width="100%",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="680px",
        ),
        open=S.dialog_open,
        on_open_change=S.set_open,
    )
    return rx.cond(AuthState.deny_write != "", guarded(button, AuthState.deny_write), dialog)
