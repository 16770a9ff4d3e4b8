"""Settings: the signing secret (reveal, copy, rotate) with a verification snippet; password;
deleting the account."""

from __future__ import annotations

import reflex as rx

from hookboard.services import accounts
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action
from hookboard.settings import get_settings
from hookboard.ui import format as fmt
from hookboard.ui import services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import confirm_guarded, field, guarded
from hookboard.ui.pages.account_deletion import delete_account_card
from hookboard.ui.state import AuthState

PASSWORD_FIELDS = ("current_password", "new_password", "confirm")
MASKED = "whsec_" + "•" * 24
VERIFY_SNIPPET = """# pip install standardwebhooks
from standardwebhooks import Webhook

wh = Webhook("whsec_...")  # your signing secret

def receive(request):
    # Raises if the signature, the id or the timestamp (5 min tolerance) is wrong.
    payload = wh.verify(request.body, {
        "webhook-id": request.headers["webhook-id"],
        "webhook-timestamp": request.headers["webhook-timestamp"],
        "webhook-signature": request.headers["webhook-signature"],
    })
"""


class SettingsState(AuthState):
    secret_shown: str = ""  # filled only while revealed
    created: str = ""
    previous: list[dict[str, str]] = []
    password_errors: dict[str, str] = dict.fromkeys(PASSWORD_FIELDS, "")
    changing: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self.secret_shown = ""
        self._describe(access)
        return None

    def _secrets(self, access: Access) -> accounts.SigningSecrets:
        with services.db() as session:
            return accounts.get_signing_secrets(session, workspace_id=access.workspace_id)

    def _describe(self, access: Access, found: accounts.SigningSecrets | None = None) -> None:
        found = found or self._secrets(access)
        self.created = fmt.absolute(found.current.created_at)
        self.previous = [
            {
                "prefix": accounts.secret_display_prefix(old.secret) + "…",
                "expires": fmt.absolute(old.expires_at),
            }
            for old in found.previous
        ]

    @rx.event
    def toggle_reveal(self):
        if self.secret_shown:
            self.secret_shown = ""
            return None
        access = self._access()
        if access is None:
            return self._to_login()
        permissions.check(access, Action.read_secret)
        self.secret_shown = self._secrets(access).current.secret
        return None

    @rx.event
    def copy_secret(self):
        access = self._access()
        if access is None:
            return self._to_login()
        permissions.check(access, Action.read_secret)
        # Straight to the clipboard, not kept in the page's state.
        return [
            rx.set_clipboard(self._secrets(access).current.secret),
            rx.toast.success("Signing secret copied"),
        ]

    @rx.event
    def rotate(self):
        access = self._access()
        if access is None:
            return self._to_login()
        with services.db() as session:
            rotated = accounts.rotate_signing_secret(session, access=access)
        self._describe(access, rotated)
        if self.secret_shown:
            self.secret_shown = rotated.current.secret
        hours = get_settings().signing_secret_grace_hours
        return rx.toast.success(f"Secret rotated; the old one keeps signing for {hours:g} h")

    @rx.event
    async def change_password(self, form: dict):
        self.password_errors = dict.fromkeys(PASSWORD_FIELDS, "")
        access = self._access()
        if access is None:
            yield self._to_login()
            return
        if form.get("new_password") != form.get("confirm"):
            self.password_errors["confirm"] = "the two new passwords differ"
            yield rx.toast.error("The two new passwords differ")
            return
        self.changing = True
        yield
        token = self.token

        def work() -> int:
            with services.db() as session:
                return accounts.change_password(
                    session,
                    user_id=access.user_id,
                    current_password=form.get("current_password", ""),
                    new_password=form.get("new_password", ""),
                    keep_token=token,
                )

        try:
            revoked = await rx.run_in_thread(work)
        except accounts.InvalidInputError as error:
            self.changing = False
            self.password_errors[error.field] = str(error)
            yield rx.toast.error(str(error))
            return
        except accounts.ThrottledError as error:
            self.changing = False
            yield rx.toast.error(str(error))
            return
        self.changing = False
        others = f"; {revoked} other session(s) logged out" if revoked else ""
        yield [
            rx.set_value("current_password", ""),
            rx.set_value("new_password", ""),
            rx.set_value("confirm", ""),
            rx.toast.success(f"Password changed{others}"),
        ]


def secret_card() -> rx.Component:
    S = SettingsState
    return rx.card(
        rx.vstack(
            rx.heading("Signing secret", size="4"),
            rx.text(
                "Every webhook carries webhook-id, webhook-timestamp and webhook-signature "
                "(Standard Webhooks, HMAC-SHA256 with this secret).",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.code(
                    rx.cond(S.secret_shown != "", S.secret_shown, MASKED),
                    id="signing-secret",
                    word_break="break-all",
                    size="3",
                ),
                guarded(
                    rx.icon_button(
                        rx.cond(
                            S.secret_shown != "",
                            rx.icon("eye-off", size=16),
                            rx.icon("eye", size=16),
                        ),
                        on_click=S.toggle_reveal,
                        variant="soft",
                        aria_label="Reveal or hide the secret",
                        id="reveal-secret",
                    ),
                    AuthState.deny_read_secret,
                ),
                guarded(
                    rx.icon_button(
                        rx.icon("copy", size=16),
                        on_click=S.copy_secret,
                        variant="soft",
                        aria_label="Copy the secret",
                    ),
                    AuthState.deny_read_secret,
                ),
                align="center",
                wrap="wrap",
            ),
            rx.text("Created ", S.created, size="1", color_scheme="gray"),
            rx.foreach(
                S.previous,
                lambda old: rx.text(
                    "Previous ",
                    rx.code(old["prefix"]),
                    " still signs until ",
                    old["expires"],
                    size="1",
                    color_scheme="amber",
                ),
            ),
            confirm_guarded(
                rx.button(
                    rx.icon("rotate-cw", size=14),
                    "Rotate secret",
                    variant="outline",
                    color_scheme="red",
                    id="rotate-secret",
                ),
                AuthState.deny_manage,
                title="Rotate the signing secret?",
                text=(
                    "A new secret signs from now on. The current one keeps signing beside it "
                    "for the grace period, so receivers can switch without failures."
                ),
                confirm_label="Rotate",
                on_confirm=S.rotate,
            ),
            rx.text("Verify a delivery (Python):", size="2", weight="medium"),
            rx.code_block(
                VERIFY_SNIPPET, language="python", width="100%", custom_style={"fontSize": "12px"}
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def password_card() -> rx.Component:
    errors = SettingsState.password_errors

    def password_input(name: str, label: str, complete: str) -> rx.Component:
        return field(
            label,
            rx.input(id=name, name=name, type="password", auto_complete=complete, required=True),
            error=errors[name],
            html_for=name,
        )

    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Change password", size="4"),
                password_input("current_password", "Current password", "current-password"),
                password_input("new_password", "New password", "new-password"),
                password_input("confirm", "New password, again", "new-password"),
                rx.button("Change password", type="submit", loading=SettingsState.changing),
                spacing="3",
                max_width="420px",
            ),
            on_submit=SettingsState.change_password,
            reset_on_submit=False,
        ),
        width="100%",
    )


def view() -> rx.Component:
    return page("Settings", secret_card(), password_card(), delete_account_card())
