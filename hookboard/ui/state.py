"""The dashboard session: the login token in the browser, the user resolved on every event.

The token is a session token from hookboard.services.accounts, the same kind the API takes
as a bearer token; each event looks it up again exactly as the API does, so a
logout, an expiry or a password change ends the dashboard session at once, and
counts against the same per-minute limits as an API request
(hookboard.services.request_limits).

Every page state is a substate of AuthState and may hold what its user may see
(a signing secret, a channel URL, a run's body): logging out or in resets them
all, and a page state left by another user is reset before it serves the next.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from hookboard.services import accounts
from hookboard.services.dashboard import session_user
from hookboard.services.request_limits import count_request, credential_of
from hookboard.ui import routes, services


class AuthState(rx.State):
    """Base of every page state: who is signed in."""

    token: str = rx.LocalStorage("", name="hookboard_session", sync=True)
    email: str = ""
    # Backend only: the user each page state last served ({state name: user id}).
    _served: dict[str, int] = {}

    def _user_id(self) -> int | None:
        with services.db() as session:
            found = session_user(session, token=self.token, now=services.now())
        if found is None:
            return None
        count_request(user_id=found.user_id, credential=credential_of(session_id=found.session_id))
        self._forget_other_user(found.user_id)
        self.email = found.email
        return found.user_id

    def _forget_other_user(self, user_id: int) -> None:
        """A token changed under this tab (another tab logged in): drop the old user's data."""
        name = self.get_full_name()
        served = self._served.get(name)
        if served == user_id:
            return
        if served is not None and type(self) is not AuthState:
            self.reset()  # this page state's own fields and its substates
        self._served = {**self._served, name: user_id}

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
