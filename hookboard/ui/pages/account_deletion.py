"""Settings' last card: delete my account (the password, then everything goes)."""

from __future__ import annotations

import reflex as rx

from hookboard.services import accounts
from hookboard.ui import routes, services
from hookboard.ui.components.widgets import field
from hookboard.ui.state import AuthState


class DeleteAccountState(AuthState):
    errors: dict[str, str] = {"password": "", "code": ""}
    deleting: bool = False

    @rx.event
    async def delete_account(self, form: dict):
        self.errors = {"password": "", "code": ""}
        access = self._access()
        if access is None:
            yield self._to_login()
            return
        self.deleting = True
        yield

        def work() -> accounts.ClosedAccount:
            with services.db() as session:
                return accounts.delete_account(
                    session,
                    user_id=access.user_id,
                    password=form.get("password", ""),
                    code=form.get("code") or None,
                    by_session=True,
                )

        try:
            await rx.run_in_thread(work)
        except accounts.InvalidInputError as error:
            self.deleting = False
            self.errors = {**self.errors, error.field: str(error)}
            yield rx.toast.error(str(error))
            return
        except accounts.ThrottledError as error:
            self.deleting = False
            yield rx.toast.error(str(error))
            return
        auth = await self.get_state(AuthState)
        auth._clear_every_page()
        yield [rx.redirect(routes.LOGIN), rx.toast.success("Your account has been deleted")]


def delete_account_card() -> rx.Component:
    S = DeleteAccountState
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Delete my account", size="4", color_scheme="red"),
                rx.text(
                    "Deletes the account and all its data: schedules, targets, runs and their "
                    "log, channels, API keys and signing secrets. Deliveries stop at once. "
                    "This cannot be undone.",
                    size="2",
                    color_scheme="gray",
                ),
                field(
                    "Your password",
                    rx.input(
                        id="delete_password",
                        name="password",
                        type="password",
                        auto_complete="current-password",
                        required=True,
                    ),
                    error=S.errors["password"],
                    html_for="delete_password",
                ),
                field(
                    "Two-factor code (when two-factor login is on)",
                    rx.input(
                        id="delete_code",
                        name="code",
                        auto_complete="one-time-code",
                        input_mode="numeric",
                    ),
                    error=S.errors["code"],
                    html_for="delete_code",
                ),
                rx.button(
                    "Delete my account",
                    type="submit",
                    color_scheme="red",
                    loading=S.deleting,
                    id="delete-account",
                ),
                spacing="3",
                max_width="420px",
            ),
            on_submit=S.delete_account,
            reset_on_submit=True,
        ),
        width="100%",
    )
