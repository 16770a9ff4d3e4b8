"""The workspace itself, on the Members page: rename it, or delete it (owners; the
name typed to confirm). A personal workspace goes with its user's account only."""

from __future__ import annotations

import reflex as rx

from hookboard.services import InvalidInput
from hookboard.services.workspaces import workspaces as workspace_service
from hookboard.ui import routes, services
from hookboard.ui.components.widgets import field, guarded
from hookboard.ui.components.workspace_switcher import WorkspaceSwitchState
from hookboard.ui.state import AuthState


class WorkspaceSettingsState(AuthState):
    name: str = ""
    personal: bool = False
    name_error: str = ""
    confirm_error: str = ""

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return None  # the page's own loader sends the visitor to log in
        with services.db() as session:
            found = workspace_service.get_workspace(session, access=access)
        self.name, self.personal = found.name, found.personal
        self.name_error = self.confirm_error = ""
        return None

    @rx.event
    def rename(self, form: dict):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                renamed = workspace_service.rename_workspace(
                    session, access=access, name=str(form.get("name", ""))
                )
        except InvalidInput as error:
            self.name_error = str(error)
            return rx.toast.error(f"Not renamed: {error}")
        self.name, self.name_error = renamed.name, ""
        return [WorkspaceSwitchState.load, rx.toast.success(f"Renamed to {renamed.name}")]

    @rx.event
    def delete(self, form: dict):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                workspace_service.delete_workspace(
                    session, access=access, confirm=str(form.get("confirm", ""))[:400]
                )
        except InvalidInput as error:
            self.confirm_error = str(error)
            return rx.toast.error(str(error))
        self.workspace_ref = ""  # back to the personal workspace
        return [rx.redirect(routes.OVERVIEW), rx.toast.success("Workspace deleted")]


S = WorkspaceSettingsState


def workspace_card() -> rx.Component:
    rename_form = rx.form(
        rx.flex(
            rx.box(
                field(
                    "Name",
                    rx.input(
                        name="name",
                        id="workspace-name",
                        default_value=S.name,
                        key=S.name,
                        max_length=200,
                        disabled=AuthState.deny_own != "",
                    ),
                    error=S.name_error,
                    html_for="workspace-name",
                ),
                flex="1",
                min_width="220px",
            ),
            rx.box(
                guarded(
                    rx.button("Rename", type="submit", variant="soft", id="rename-workspace"),
                    AuthState.deny_own,
                ),
                padding_top="24px",
            ),
            gap="12px",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.rename,
        reset_on_submit=False,
    )
    delete_form = rx.form(
        rx.flex(
            rx.box(
                field(
                    "Type the workspace's name to delete it with all its schedules and runs",
                    rx.input(name="confirm", id="delete-workspace-confirm", max_length=200),
                    error=S.confirm_error,
                    html_for="delete-workspace-confirm",
                ),
                flex="1",
                min_width="220px",
            ),
            rx.box(
                guarded(
                    rx.button(
                        "Delete workspace",
                        type="submit",
                        color_scheme="red",
                        variant="soft",
                        id="delete-workspace",
                    ),
                    AuthState.deny_own,
                ),
                padding_top="24px",
            ),
            gap="12px",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.delete,
        reset_on_submit=True,
    )
    return rx.card(
        rx.vstack(
            rx.heading("Workspace", size="4"),
            rename_form,
            rx.cond(
                S.personal,
                rx.text(
                    "This is your personal workspace: it goes with your account "
                    "(Settings, Delete my account).",
                    size="2",
                    color_scheme="gray",
                ),
                delete_form,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        on_mount=S.load,
    )
