"""Sign up and log in (a password, then a two-factor code when the account has one):
the session token goes to the browser, then back where the user was."""

from __future__ import annotations

import reflex as rx

from hookboard.services import accounts
from hookboard.services.accounts import two_factor
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
    needs_code: bool = False  # the password was right; the code form shows
    _challenge: str = ""  # backend-only: never sent to the browser

    def _next(self) -> str:
        return safe_next(self.router.url.query_parameters.get("next"))

    @rx.event
    def skip_if_signed_in(self):
        self.error, self.needs_code, self._challenge = "", False, ""
        if self._access() is not None:
            return rx.redirect(self._next())

    def _fail(self, message: str, field_name: str = ""):
        self.error, self.field_name, self.busy = message, field_name, False
        return rx.toast.error(message)

    def _signed_in(self, token: str, message: str):
        self.error, self.field_name, self.busy = "", "", False
        self.needs_code, self._challenge = False, ""
        # The token goes to the browser with this very answer, before the redirect
        # runs: a page opened right after it (a new tab, a reload) is signed in.
        self.token = token
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
        client = self._client()
        try:
            result = await rx.run_in_thread(lambda: _login(email, password, *client))
        except accounts.TotpRequiredError as required:
            self._challenge, self.needs_code, self.busy, self.error = (
                required.challenge,
                True,
                False,
                "",
            )
            return
        except accounts.AccountError as error:
            yield self._fail(str(error), getattr(error, "field", ""))
            return
        yield self._signed_in(result.token, "Welcome back")

    @rx.event
    async def submit_code(self, form: dict):
        self.busy = True
        yield
        challenge, code, client = self._challenge, form.get("code", ""), self._client()
        try:
            result = await rx.run_in_thread(lambda: _login_with_code(challenge, code, *client))
        except accounts.InvalidChallengeError as error:
            self.needs_code, self._challenge = False, ""
            yield self._fail(str(error))
            return
        except accounts.AccountError as error:
            yield self._fail(str(error), getattr(error, "field", ""))
            return
        yield self._signed_in(result.token, "Welcome back")

    @rx.event
    def back_to_password(self):
        self.needs_code, self._challenge, self.error, self.field_name = False, "", "", ""

    def _client(self) -> tuple[str | None, str | None]:
        """(IP, user agent) of the browser, recorded with the session it opens."""
        return self.router.session.client_ip or None, self.router.headers.user_agent or None

    @rx.event
    async def sign_up(self, form: dict):
        self.busy = True
        yield
        email, password = form.get("email", ""), form.get("password", "")
        client = self._client()
        try:
            result = await rx.run_in_thread(lambda: _signup(email, password, *client))
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


def _login(email: str, password: str, client_ip, user_agent) -> accounts.LoginResult:
    with services.db() as session:
        return accounts.login(
            session, email=email, password=password, client_ip=client_ip, user_agent=user_agent
        )


def _login_with_code(challenge: str, code: str, client_ip, user_agent) -> accounts.LoginResult:
    with services.db() as session:
        return two_factor.login_with_code(
            session, challenge=challenge, code=code, client_ip=client_ip, user_agent=user_agent
        )


def _signup(email: str, password: str, client_ip, user_agent) -> accounts.SignupResult:
    with services.db() as session:
        return accounts.signup(
            session, email=email, password=password, client_ip=client_ip, user_agent=user_agent
        )


def _error_for(name: str) -> rx.Var:
    return rx.cond(CredentialsState.field_name == name, CredentialsState.error, "")


def centered_frame(card: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(brand(), rx.spacer(), color_mode_toggle(), width="100%"),
            card,
            spacing="5",
            width="100%",
            max_width="400px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )


def _code_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Two-factor code", size="6"),
                rx.text(
                    "Enter the 6-digit code from your authenticator app, or a recovery code.",
                    size="2",
                    color_scheme="gray",
                ),
                field(
                    "Code",
                    rx.input(
                        id="code",
                        name="code",
                        required=True,
                        auto_complete="one-time-code",
                        input_mode="numeric",
                        max_length=64,
                        size="3",
                        auto_focus=True,
                    ),
                    error=_error_for("code"),
                    html_for="code",
                ),
                rx.button(
                    "Verify", type="submit", size="3", loading=CredentialsState.busy, width="100%"
                ),
                rx.link("Back", on_click=CredentialsState.back_to_password, size="2"),
                spacing="4",
                width="100%",
            ),
            on_submit=CredentialsState.submit_code,
            reset_on_submit=True,
        ),
        width="100%",
        padding="24px",
    )


def _form(title: str, action: str, on_submit, new_password: bool, footer: rx.Component):
    return centered_frame(
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
                            auto_complete="new-password" if new_password else "current-password",
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
    return rx.cond(
        CredentialsState.needs_code,
        centered_frame(_code_card()),
        _form(
            "Log in",
            "Log in",
            CredentialsState.log_in,
            False,
            _switch("No account yet?", "Sign up", routes.SIGNUP),
        ),
    )


def signup_page() -> rx.Component:
    return _form(
        "Create your account",
        "Sign up",
        CredentialsState.sign_up,
        True,
        _switch("Already have an account?", "Log in", routes.LOGIN),
    )
