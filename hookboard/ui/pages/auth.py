"""Sign up and log in: the session token goes to the browser, then back where the user was."""

from __future__ import annotations

import reflex as rx

from hookboard.services import accounts
from hookboard.ui import routes, services
from hookboard.ui.components.layout import brand, color_mode_toggle
from hookboard.ui.components.widgets import field
from hookboard.ui.state import AuthState


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return routes.OVERVIEW
    return target


class CredentialsState(AuthState):
    error: str = ""
    field_name: str = ""
    busy: bool = False

    def _next(self) -> str:
        return safe_next(self.router.url.query_parameters.get("next"))

    @rx.event
    def skip_if_signed_in(self):
        self.error = ""
        if self._user_id() is not None:
            return rx.redirect(self._next())

    def _fail(self, message: str, field_name: str = ""):
        self.error, self.field_name, self.busy = message, field_name, False
        return rx.toast.error(message)

    def _signed_in(self, token: str, message: str):
        # An AuthState event: it resets every page state, not only the ones loaded here.
        return [
            AuthState.begin_session(token),
            rx.redirect(self._next()),
            rx.toast.success(message),
        ]

    @rx.event
    async def log_in(self, form: dict):
        self.busy = True
        yield
        email, password = form.get("email", ""), form.get("password", "")
        client_ip = self.router.session.client_ip or None
        try:
            result = await rx.run_in_thread(lambda: _login(email, password, client_ip))
        except accounts.AccountError as error:
            yield self._fail(str(error), getattr(error, "field", ""))
            return
        yield self._signed_in(result.token, "Welcome back")

    @rx.event
    async def sign_up(self, form: dict):
        self.busy = True
        yield
        email, password = form.get("email", ""), form.get("password", "")
        client_ip = self.router.session.client_ip or None
        try:
            result = await rx.run_in_thread(lambda: _signup(email, password, client_ip))
        except accounts.InvalidInputError as error:
            yield self._fail(str(error), error.field)
            return
        except accounts.EmailTakenError as error:
            yield self._fail(str(error), "email")
            return
        except accounts.ThrottledError as error:
            yield self._fail(str(error), "")
            return
        yield self._signed_in(result.token, "Account created")


def _login(email: str, password: str, client_ip: str | None) -> accounts.LoginResult:
    with services.db() as session:
        return accounts.login(session, email=email, password=password, client_ip=client_ip)


def _signup(email: str, password: str, client_ip: str | None) -> accounts.SignupResult:
    with services.db() as session:
        return accounts.signup(session, email=email, password=password, client_ip=client_ip)


def _error_for(name: str) -> rx.Var:
    return rx.cond(CredentialsState.field_name == name, CredentialsState.error, "")


def _form(title: str, action: str, on_submit, new_password: bool, footer: rx.Component):
    return rx.center(
        rx.vstack(
            rx.hstack(brand(), rx.spacer(), color_mode_toggle(), width="100%"),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading(title, size="6"),
                        field(
                            "Email",
                            rx.input(
                                id="email",
                                name="email",
                                type="email",
                                required=True,
                                auto_complete="email",
                                size="3",
                                auto_focus=True,
                            ),
                            error=_error_for("email"),
                            html_for="email",
                        ),
                        field(
                            "Password",
                            rx.input(
                                id="password",
                                name="password",
                                type="password",
                                required=True,
                                auto_complete="new-password"
                                if new_password
                                else "current-password",
                                size="3",
                            ),
                            error=_error_for("password"),
                            hint="At least 8 characters." if new_password else "",
                            html_for="password",
                        ),
                        rx.cond(
                            (CredentialsState.error != "") & (CredentialsState.field_name == ""),
                            rx.callout(
                                CredentialsState.error, icon="triangle-alert", color_scheme="red"
                            ),
                        ),
                        rx.button(
                            action,
                            type="submit",
                            size="3",
                            loading=CredentialsState.busy,
                            width="100%",
                        ),
                        footer,
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=on_submit,
                    reset_on_submit=False,
                ),
                width="100%",
                padding="24px",
            ),
            spacing="5",
            width="100%",
            max_width="400px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )


def _switch(text: str, label: str, href: str) -> rx.Component:
    next_query = CredentialsState.router.url.query
    return rx.text(
        text + " ",
        rx.link(label, href=rx.cond(next_query != "", href + "?" + next_query, href)),
        size="2",
        color_scheme="gray",
    )


def login_page() -> rx.Component:
    return _form(
        "Log in",
        "Log in",
        CredentialsState.log_in,
        False,
        _switch("No account yet?", "Sign up", routes.SIGNUP),
    )


def signup_page() -> rx.Component:
    return _form(
        "Create your account",
        "Sign up",
        CredentialsState.sign_up,
        True,
        _switch("Already have an account?", "Log in", routes.LOGIN),
    )
