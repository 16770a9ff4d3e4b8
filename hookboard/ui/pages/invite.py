"""Accepting an invitation (/invite?token=...): a visitor not signed in logs in
or signs up first and comes back here (the login page's `next=`); then one
click joins the workspace, which the tab switches to."""

from __future__ import annotations

import reflex as rx

from hookboard.services import ServiceError
from hookboard.services.workspaces import invitations as invitation_service
from hookboard.ui import routes, services
from hookboard.ui.pages.auth import centered_frame
from hookboard.ui.state import AuthState


class InviteState(AuthState):
    error: str = ""
    busy: bool = False

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.event
    def load(self):
        self.error, self.busy = "", False
        if self._access() is None:
            return self._to_login()  # back here, token and all, once signed in
        if not self._token():
            self.error = "This link has no invitation token; ask for a new invitation."
        return None

    @rx.event
    def accept(self):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                joined = invitation_service.accept_invitation(
                    session,
                    user_id=access.user_id,
                    token=self._token(),
                    client_ip=self.router.session.client_ip or None,
                    user_agent=self.router.headers.user_agent or None,
                )
        except ServiceError as error:
            message = str(error)
            self.error = message[:1].upper() + message[1:]
            return rx.toast.error(self.error)
        self.workspace_ref = str(joined.id)
        return [
            rx.redirect(routes.OVERVIEW),
            rx.toast.success(f"You joined {joined.name} as {joined.role}"),
        ]


def view() -> rx.Component:
    S = InviteState
    return centered_frame(
        rx.card(
            rx.vstack(
                rx.heading("Join a workspace", size="6"),
                rx.text(
                    "You were invited to work with others on their schedules. "
                    "You are signed in as ",
                    rx.text.strong(AuthState.email),
                    "; the invitation must be for this address.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.cond(
                    S.error != "",
                    rx.callout(
                        S.error, icon="triangle-alert", color_scheme="red", id="invite-error"
                    ),
                ),
                rx.button(
                    "Accept the invitation",
                    on_click=S.accept,
                    size="3",
                    width="100%",
                    id="accept-invite",
                ),
                rx.link("Not now", href=routes.OVERVIEW, size="2"),
                spacing="4",
                width="100%",
            ),
            width="100%",
            padding="24px",
        )
    )
