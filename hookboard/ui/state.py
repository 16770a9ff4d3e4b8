"""The dashboard session: the login token in the browser, the caller resolved on every event.

The token is a session token from hookboard.services.accounts, the same kind the API takes
as a bearer token; each event looks it up again exactly as the API does, so a
logout, an expiry, a password change or a lost membership ends (or moves) the
dashboard session at once, and counts against the same per-minute limits as an
API request (hookboard.services.request_limits).

The workspace a tab acts in is kept in the browser too (its id, like the API's
Hookboard-Workspace header); one no longer the user's falls back to their
personal workspace. Every page state is a substate of AuthState and may hold
what its caller may see in one workspace (a signing secret, a channel URL, a
run's body): logging out or in resets them all, and a page state left by
another user, or by the same user in another workspace, is reset before it
serves the next.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import reflex as rx

from hookboard.services import ServiceError, accounts
from hookboard.services.credentials import requested_workspace
from hookboard.services.dashboard import session_access
from hookboard.services.request_limits import count_request, credential_of
from hookboard.services.workspaces.permissions import Access, Action, reason_denied
from hookboard.ui import routes, services


def _workspace_ref(value: str) -> int | None:
    """The id kept in the browser; anything unreadable means the default workspace."""
    try:
        return requested_workspace(value)
    except ServiceError:
        return None


class AuthState(rx.State):
    """Base of every page state: who is signed in, in which workspace, with which role."""

    token: str = rx.LocalStorage("", name="hookboard_session", sync=True)
    workspace_ref: str = rx.LocalStorage("", name="hookboard_workspace", sync=True)
    email: str = ""
    workspace_id: int = 0
    role: str = ""
    # Why the caller's role cannot take an action ("" when it can): disabled buttons' tooltips.
    deny_write: str = ""
    deny_export_secrets: str = ""
    deny_read_secret: str = ""
    deny_manage: str = ""
    deny_own: str = ""
    # Backend only: whom each page state last served ({state name: "user:workspace"}).
    _served: dict[str, str] = {}

    def _access(self) -> Access | None:
        """The caller in the tab's workspace, counted as a request; None when signed out."""
        with services.db() as session:
            access = session_access(
                session,
                token=self.token,
                now=services.now(),
                workspace_id=_workspace_ref(self.workspace_ref),
            )
        if access is None:
            return None
        # Where the event came from, for the audit log (as the login records it).
        access = replace(
            access,
            client_ip=self.router.session.client_ip or None,
            user_agent=self.router.headers.user_agent or None,
        )
        count_request(
            workspace_id=access.workspace_id,
            credential=credential_of(session_id=access.session_id),
        )
        self._forget_other_caller(f"{access.user_id}:{access.workspace_id}")
        self._show_caller(access)
        return access

    def _show_caller(self, access: Access) -> None:
        self.email = access.email or ""
        self.workspace_id = access.workspace_id
        if self.workspace_ref != str(access.workspace_id):
            self.workspace_ref = str(access.workspace_id)  # the fallback, made visible
        self.role = str(access.role)
        self.deny_write = reason_denied(access.role, Action.write)
        self.deny_export_secrets = reason_denied(access.role, Action.export_secrets)
        self.deny_read_secret = reason_denied(access.role, Action.read_secret)
        self.deny_manage = reason_denied(access.role, Action.manage)
        self.deny_own = reason_denied(access.role, Action.own)

    def _forget_other_caller(self, caller: str) -> None:
        """Another user, or another workspace, under this tab: drop what was shown before."""
        name = self.get_full_name()
        served = self._served.get(name)
        if served == caller:
            return
        if served is not None and type(self) is not AuthState:
            self.reset()  # this page state's own fields and its substates
        self._served = {**self._served, name: caller}

    def _clear_every_page(self) -> None:
        """Back to defaults: this state and every page state (loaded with an AuthState event)."""
        self.reset()
        self._served = {}

    def _to_login(self):
        """Where an unauthenticated visit goes: log in, then back here."""
        path = self.router.url.path or "/"
        query = self.router.url.query
        here = f"{path}?{query}" if query else path
        return rx.redirect(f"{routes.LOGIN}?next={quote(here, safe='')}")

    @rx.event
    def begin_session(self, token: str):
        """A login or sign-up in this tab: nothing of whoever used it before stays."""
        self._clear_every_page()
        self.token = token

    @rx.event
    def logout(self):
        if self.token:
            with services.db() as session:
                accounts.logout(session, token=self.token)
        self._clear_every_page()
        return [rx.redirect(routes.LOGIN), rx.toast.success("Logged out")]
