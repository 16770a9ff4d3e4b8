"""Security: two-factor login (set up with a QR code, recovery codes, turn off) and
the user's sessions (where and when each was used; log one or all others out)."""

from __future__ import annotations

import reflex as rx
import segno

from hookboard.services import NotFound, accounts, credentials
from hookboard.services.accounts import two_factor
from hookboard.services.workspaces.permissions import Access
from hookboard.ui import format as fmt
from hookboard.ui import services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import confirm, field
from hookboard.ui.state import AuthState


class SecurityState(AuthState):
    totp_enabled: bool = False
    codes_left: int = 0
    setup_qr: str = ""  # a data: URI of the QR code, while a setup is pending
    setup_secret: str = ""  # for apps that cannot scan; only during setup
    recovery_codes: list[str] = []  # shown once, right after they are made
    sessions: list[dict[str, str]] = []
    code_error: str = ""
    busy: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self.setup_qr, self.setup_secret, self.recovery_codes, self.code_error = "", "", [], ""
        self._refresh(access)
        return None

    def _refresh(self, access: Access) -> None:
        now = services.now()
        with services.db() as session:
            found = credentials.find_session(session.connection(), self.token)
            status = two_factor.status(session, user_id=access.user_id)
            listed = accounts.list_sessions(
                session, user_id=access.user_id, current_session_id=found and found.id, now=now
            )
        self.totp_enabled, self.codes_left = status.enabled, status.recovery_codes_left
        self.sessions = [
            {
                "id": str(info.id),
                "opened": fmt.absolute(info.created_at),
                "used": fmt.relative(info.last_used_at, now) if info.last_used_at else "never",
                "ip": info.client_ip or "—",
                "agent": info.user_agent or "—",
                "current": "yes" if info.current else "",
            }
            for info in listed
        ]

    def _act(self, work, success: str):
        """Run a service call for the signed-in user; a toast either way."""
        access = self._access()
        if access is None:
            return self._to_login()
        self.code_error = ""
        try:
            with services.db() as session:
                result = work(session, access.user_id)
        except accounts.InvalidInputError as error:
            self.code_error = str(error)
            return rx.toast.error(str(error))
        except (accounts.AccountError, NotFound) as error:
            return rx.toast.error(str(error))
        self._refresh(access)
        return [rx.toast.success(success if isinstance(success, str) else success(result))]

    @rx.event
    def start_setup(self):
        def work(session, user_id):
            setup = two_factor.begin_setup(session, user_id=user_id)
            self.setup_secret = setup.secret
            self.setup_qr = segno.make(setup.uri, error="m").svg_data_uri(scale=5)

        return self._act(work, "Scan the code, then enter the 6 digits your app shows")

    @rx.event
    def confirm_setup(self, form: dict):
        def work(session, user_id):
            self.recovery_codes = two_factor.confirm_setup(
                session, user_id=user_id, code=form.get("code", "")
            )
            self.setup_qr, self.setup_secret = "", ""

        return self._act(work, "Two-factor login is on; keep the recovery codes safe")

    @rx.event
    def regenerate(self, form: dict):
        def work(session, user_id):
            self.recovery_codes = two_factor.regenerate_recovery_codes(
                session, user_id=user_id, code=form.get("code", "")
            )

        return self._act(work, "New recovery codes; the old ones no longer work")

    @rx.event
    def disable(self, form: dict):
        def work(session, user_id):
            self.recovery_codes = []
            return two_factor.disable(
                session,
                user_id=user_id,
                password=form.get("password", ""),
                code=form.get("code", ""),
                keep_token=self.token,
            )

        return self._act(
            work, lambda ended: f"Two-factor login is off; {ended} other session(s) ended"
        )

    @rx.event
    def revoke(self, session_id: str):
        def work(session, user_id):
            accounts.revoke_session(
                session, user_id=user_id, session_id=int(session_id), now=services.now()
            )

        return self._act(work, "Session logged out")

    @rx.event
    def revoke_others(self):
        def work(session, user_id):
            ended = accounts.revoke_other_sessions(
                session, user_id=user_id, keep_token=self.token, now=services.now()
            )
            session.commit()
            return ended

        return self._act(work, lambda ended: f"{ended} other session(s) logged out")


def _code_form(label: str, on_submit, *extra: rx.Component, form_id: str) -> rx.Component:
    return rx.form(
        rx.hstack(
            *extra,
            field(
                "Code",
                rx.input(name="code", id=f"{form_id}-code", auto_complete="one-time-code"),
                error=SecurityState.code_error,
                html_for=f"{form_id}-code",
            ),
            rx.button(label, type="submit", id=f"{form_id}-submit"),
            align="end",
            wrap="wrap",
            max_width="560px",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
    )


def _recovery_codes() -> rx.Component:
    S = SecurityState
    return rx.cond(
        S.recovery_codes.length() > 0,
        rx.callout.root(
            rx.callout.text("Recovery codes: each works once. They are shown only now."),
            rx.grid(
                rx.foreach(S.recovery_codes, lambda code: rx.code(code, class_name="recovery")),
                columns="2",
                spacing="2",
            ),
            color_scheme="amber",
            id="recovery-codes",
        ),
    )


def two_factor_card() -> rx.Component:
    S = SecurityState
    password = field(
        "Password",
        rx.input(name="password", id="disable-password", type="password", required=True),
        html_for="disable-password",
    )
    enabled = rx.vstack(
        rx.badge("On", color_scheme="green", id="totp-on"),
        rx.text(S.codes_left, " recovery codes left", size="2", color_scheme="gray"),
        rx.text("New recovery codes:", size="2", weight="medium"),
        _code_form("Regenerate", S.regenerate, form_id="regenerate"),
        rx.text("Turn two-factor login off:", size="2", weight="medium"),
        _code_form("Turn off", S.disable, password, form_id="disable"),
        spacing="3",
    )
    setup = rx.vstack(
        rx.image(src=S.setup_qr, alt="QR code for your authenticator app", id="totp-qr"),
        rx.text("Or type this key: ", rx.code(S.setup_secret, id="totp-secret"), size="2"),
        _code_form("Turn on", S.confirm_setup, form_id="confirm"),
        spacing="3",
    )
    off = rx.button("Set up two-factor login", on_click=S.start_setup, id="totp-setup")
    return rx.card(
        rx.vstack(
            rx.heading("Two-factor login", size="4"),
            rx.text(
                "A code from an authenticator app (TOTP) after the password.",
                size="2",
                color_scheme="gray",
            ),
            _recovery_codes(),
            rx.cond(S.totp_enabled, enabled, rx.cond(S.setup_qr != "", setup, off)),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _session_row(item: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item["opened"]),
        rx.table.cell(item["used"]),
        rx.table.cell(item["ip"]),
        rx.table.cell(rx.text(item["agent"], size="1", max_width="320px", truncate=True)),
        rx.table.cell(
            rx.cond(
                item["current"] != "",
                rx.badge("This session"),
                rx.button(
                    "Log out",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=SecurityState.revoke(item["id"]),
                ),
            )
        ),
    )


def sessions_card() -> rx.Component:
    S = SecurityState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Sessions", size="4"),
                rx.spacer(),
                confirm(
                    rx.button("Log out other sessions", variant="outline", color_scheme="red"),
                    title="Log out every other session?",
                    text="Every browser and API session but this one must log in again.",
                    confirm_label="Log them out",
                    on_confirm=S.revoke_others,
                ),
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *(
                            rx.table.column_header_cell(name)
                            for name in ("Opened", "Last used", "IP", "Browser", "")
                        )
                    )
                ),
                rx.table.body(rx.foreach(S.sessions, _session_row)),
                width="100%",
                id="sessions",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def view() -> rx.Component:
    return page("Security", two_factor_card(), sessions_card())
