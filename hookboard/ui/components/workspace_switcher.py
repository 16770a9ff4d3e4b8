"""The workspace switcher: the workspace this tab acts in, always in view; the
user's other workspaces one click away; and a new workspace."""

from __future__ import annotations

import reflex as rx

from hookboard.services import ServiceError
from hookboard.services.workspaces import workspaces as workspace_service
from hookboard.ui import routes, services
from hookboard.ui.components.widgets import dialog_form_actions, field
from hookboard.ui.state import AuthState


def section_of(path: str) -> str:
    """Where a switch lands: the same list page, never another workspace's detail page."""
    first = path.strip("/").split("/")[0]
    return f"/{first}" if first else routes.OVERVIEW


class WorkspaceSwitchState(AuthState):
    workspaces: list[dict[str, str]] = []
    current_name: str = ""
    create_open: bool = False
    new_name: str = ""
    name_error: str = ""

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return None  # the page's own loader sends the visitor to log in
        with services.db() as session:
            found = workspace_service.list_workspaces(session, user_id=access.user_id)
        self.workspaces = [
            {
                "id": str(item.id),
                "name": item.name,
                "role": str(item.role),
                "current": "yes" if item.id == access.workspace_id else "",
            }
            for item in found
        ]
        self.current_name = next(
            (item.name for item in found if item.id == access.workspace_id), ""
        )
        return None

    def _land(self):
        """Load the page again, in the workspace now chosen."""
        path = self.router.url.path or routes.OVERVIEW
        target = section_of(path)
        if target.rstrip("/") == path.rstrip("/"):
            return rx.call_script("window.location.reload()")
        return rx.redirect(target)

    @rx.event
    def switch(self, workspace_id: str):
        self.workspace_ref = workspace_id
        access = self._access()  # one no longer the user's falls back to their own
        if access is None:
            return self._to_login()
        return self._land()

    @rx.event
    def open_create(self, open_: bool = True):
        self.create_open, self.new_name, self.name_error = open_, "", ""

    @rx.event
    def set_new_name(self, value: str):
        self.new_name, self.name_error = value, ""

    @rx.event
    def create(self):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                created = workspace_service.create_workspace(
                    session, access=access, name=self.new_name
                )
                session.commit()
        except ServiceError as error:
            self.name_error = str(error)
            return rx.toast.error(f"Not created: {error}")
        self.create_open = False
        self.workspace_ref = str(created.id)
        return self._land()  # the switcher then names it (a reload would drop a toast)


def _item(workspace: rx.Var) -> rx.Component:
    return rx.menu.item(
        rx.hstack(
            rx.icon("check", size=14, opacity=rx.cond(workspace["current"] != "", "1", "0")),
            rx.text(workspace["name"], trim="both"),
            rx.spacer(),
            rx.badge(workspace["role"], variant="soft", color_scheme="gray", radius="full"),
            align="center",
            width="100%",
            spacing="2",
        ),
        on_select=WorkspaceSwitchState.switch(workspace["id"]),
        class_name="workspace-option",
        data_workspace=workspace["id"],
        min_width="220px",
    )


def _create_dialog() -> rx.Component:
    S = WorkspaceSwitchState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New workspace"),
            rx.dialog.description(
                "You become its owner; invite others from its Members page.", size="2"
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Name",
                        rx.input(
                            value=S.new_name,
                            on_change=S.set_new_name,
                            id="new-workspace-name",
                            max_length=200,
                        ),
                        error=S.name_error,
                        html_for="new-workspace-name",
                    ),
                    dialog_form_actions("Create", "create-workspace"),
                    spacing="3",
                ),
                on_submit=lambda _form: S.create(),
                reset_on_submit=False,
            ),
            max_width="420px",
        ),
        open=S.create_open,
        on_open_change=S.open_create,
    )


def workspace_switcher(suffix: str = "") -> rx.Component:
    """`suffix` keeps element ids unique where the switcher shows twice (wide, narrow)."""
    S = WorkspaceSwitchState
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("building-2", size=16),
                    rx.box(
                        rx.text(
                            S.current_name,
                            size="2",
                            weight="medium",
                            truncate=True,
                            as_="div",
                            line_height="1.3",
                        ),
                        rx.text(
                            AuthState.role,
                            size="1",
                            color_scheme="gray",
                            as_="div",
                            line_height="1.3",
                        ),
                        text_align="left",
                        min_width="0",
                        flex="1",
                    ),
                    rx.icon("chevrons-up-down", size=14),
                    variant="soft",
                    color_scheme="gray",
                    width="100%",
                    min_width="180px" if not suffix else "0",
                    height="auto",
                    padding_y="8px",
                    id=f"workspace-switcher{suffix}",
                    aria_label=f"Workspace: {S.current_name}. Switch workspace",
                )
            ),
            rx.menu.content(
                rx.text("Your workspaces", size="1", color_scheme="gray", padding_x="8px"),
                rx.foreach(S.workspaces, _item),
                rx.menu.separator(),
                rx.menu.item(
                    rx.hstack(rx.icon("plus", size=14), rx.text("Create workspace")),
                    on_select=S.open_create(True),
                    id=f"open-create-workspace{suffix}",
                ),
            ),
        ),
        # One dialog and one load for both copies: they share the state, and the
        # dialog's portal shows even when its copy of the switcher is hidden.
        _create_dialog() if not suffix else rx.fragment(),
        on_mount=S.load if not suffix else None,
        width="100%",
    )
