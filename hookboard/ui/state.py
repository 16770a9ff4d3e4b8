"""The dashboard session: the login token in the browser, the user resolved on every event.

The token is a session token from hookboard.services.accounts, the same kind the API takes
as a bearer token; each event looks it up again exactly as the API does, so a
logout, an expiry or a password change ends the dashboard session at once.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from hookboard.services import accounts
from hookboard.services.dashboard import session_user
from hookboard.ui import routes, services


class AuthState(rx.State):
    """Base of every page state: who is signed in."""

    token: str = rx.LocalStorage("", name="hookboard_session", sync=True)
    email: str = ""

    def _user_id(self) -> int | None:
        with services.db() as session:
            found = session_user(session, token=self.token, now=services.now())
        if found is None:
            return None
        self.email = found[1]
        return found[0]

    def _to_login(self):
        """Where an unauthenticated visit goes: log in, then back here."""
        path = self.router.url.path or "/"
        query = self.router.url.query
        here = f"{path}?{query}" if query else path
        return rx.redirect(f"{routes.LOGIN}?next={quote(here, safe='')}")

    @rx.event
    def logout(self):
        if self.token:
            with services.db() as session:
                accounts.logout(session, token=self.token)
        self.token = ""
        self.email = ""
        return [rx.redirect(routes.LOGIN), rx.toast.success("Logged out")]
