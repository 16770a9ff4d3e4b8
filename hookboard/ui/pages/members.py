"""Members: who is in this workspace with which role; invitations (the link shown
once), role changes, removal, and leaving. The rules (who may grant what, the
last owner, the personal workspace) are the services'; this page asks them."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hookboard.services import InvalidInput
from hookboard.services.workspaces import invitations as invitation_service
from hookboard.services.workspaces import members as member_service
from hookboard.services.workspaces.permissions import Access, Action, Role, allows
from hookboard.ui import format as fmt
from hookboard.ui import routes, services
from hookboard.ui.components.layout import page
from hookboard.ui.components.widgets import code_text, confirm, confirm_guarded, field, guarded
from hookboard.ui.ids import id_of
from hookboard.ui.pages.workspace_settings import workspace_card
from hookboard.ui.state import AuthState

ROLES = [role.value for role in Role]


class MembersState(AuthState):
    members: list[dict[str, Any]] = []
    invitations: list[dict[str, str]] = []
    invite_email: str = ""
    invite_role: str = Role.editor.value
    invite_error: str = ""
    invite_link: str = ""  # shown once, until the next invitation or a reload
    invite_emailed: bool = False
    loaded: bool = False

    @rx.event
    def load(self):
        access = self._access()
        if access is None:
            return self._to_login()
        self.invite_link, self.invite_error = "", ""
        self._refresh(access)
        self.loaded = True
        return None

    def _refresh(self, access: Access) -> None:
        now = services.now()
        with services.db() as session:
            found = member_service.list_members(session, access=access)
            pending = (
                invitation_service.list_invitations(session, access=access, now=now)
                if allows(access, Action.manage)
                else []
            )
        self.members = [
            {
                "user_id": str(member.user_id),
                "email": member.email,
                "role": str(member.role),
                "joined": fmt.relative(member.joined_at, now),
                "you": member.user_id == access.user_id,
            }
            for member in found
        ]
        self.invitations = [
            {
                "id": str(invitation.id),
                "email": invitation.email,
                "role": str(invitation.role),
                "expires": fmt.relative(invitation.expires_at, now),
                "by": invitation.invited_by_email or "—",
            }
            for invitation in pending
        ]

    @rx.event
    def set_invite_email(self, value: str):
        self.invite_email, self.invite_error = value, ""

    @rx.event
    def set_invite_role(self, value: str):
        self.invite_role = value

    @rx.event
    async def invite(self):
        access = self._access()
        if access is None:
            yield self._to_login()
            return
        email, role = self.invite_email, self.invite_role

        def work() -> invitation_service.CreatedInvitation:
            with services.db() as session:
                return invitation_service.invite(session, access=access, email=email, role=role)

        try:
            created = await rx.run_in_thread(work)  # it may email the link
        except InvalidInput as error:
            self.invite_error = str(error)
            yield rx.toast.error(f"Not invited: {error}")
            return
        self.invite_link, self.invite_emailed = created.link, created.emailed
        self.invite_email = ""
        self._refresh(access)
        yield rx.toast.success(f"Invitation for {created.info.email} created")

    @rx.event
    def copy_link(self):
        return [rx.set_clipboard(self.invite_link), rx.toast.success("Link copied")]

    @rx.event
    def revoke_invitation(self, invitation_id: str):
        access = self._access()
        if access is None:
            return self._to_login()
        with services.db() as session:
            invitation_service.revoke_invitation(
                session, access=access, invitation_id=id_of(invitation_id, "invitation")
            )
        self._refresh(access)
        return rx.toast.success("Invitation revoked")

    @rx.event
    def change_role(self, user_id: str, role: str):
        access = self._access()
        if access is None:
            return self._to_login()
        try:
            with services.db() as session:
                changed = member_service.change_role(
                    session, access=access, user_id=id_of(user_id, "member"), role=role
                )
        finally:
            self._refresh(access)  # the select shows the role actually held
        return rx.toast.success(f"{changed.email} is now {changed.role}")

    @rx.event
    def remove(self, user_id: str):
        access = self._access()
        if access is None:
            return self._to_login()
        with services.db() as session:
            member_service.remove_member(session, access=access, user_id=id_of(user_id, "member"))
        self._refresh(access)
        return rx.toast.success("Member removed")

    @rx.event
    def leave(self):
        access = self._access()
        if access is None:
            return self._to_login()
        with services.db() as session:
            member_service.leave_workspace(session, access=access)
        self.workspace_ref = ""  # back to the personal workspace
        return [rx.redirect(routes.OVERVIEW), rx.toast.success("You left the workspace")]


S = MembersState


def invite_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Invite someone", size="4"),
            rx.form(
                rx.flex(
                    rx.box(
                        field(
                            "Email",
                            rx.input(
                                value=S.invite_email,
                                on_change=S.set_invite_email,
                                id="invite-email",
                                type="email",
                                max_length=320,
                                placeholder="colleague@example.com",
                            ),
                            error=S.invite_error,
                            html_for="invite-email",
                        ),
                        flex="3",
                        min_width="220px",
                    ),
                    rx.box(
                        field(
                            "Role",
                            rx.select(
                                ROLES,
                                value=S.invite_role,
                                on_change=S.set_invite_role,
                                id="invite-role",
                            ),
                        ),
                        flex="1",
                        min_width="140px",
                    ),
                    rx.box(
                        guarded(
                            rx.button(rx.icon("send", size=14), "Invite", id="send-invite"),
                            AuthState.deny_manage,
                        ),
                        padding_top="24px",
                    ),
                    align="start",
                    gap="12px",
                    width="100%",
                    wrap="wrap",
                ),
                on_submit=lambda _form: S.invite(),
                reset_on_submit=False,
            ),
            rx.cond(
                S.invite_link != "",
                rx.callout(
                    rx.vstack(
                        rx.text(
                            rx.cond(
                                S.invite_emailed,
                                "Emailed. The link works once and is shown only now:",
                                "Send this link; it works once and is shown only now:",
                            )
                        ),
                        rx.hstack(
                            code_text(S.invite_link, id="invite-link"),
                            rx.icon_button(
                                rx.icon("copy", size=14),
                                on_click=S.copy_link,
                                variant="soft",
                                aria_label="Copy the link",
                            ),
                            align="center",
                        ),
                    ),
                    icon="link",
                    color_scheme="green",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def member_row(member: rx.Var) -> rx.Component:
    user_id = member["user_id"].to(str)
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(member["email"], weight="medium"),
                rx.cond(member["you"].to(bool), rx.badge("you", variant="soft")),
                spacing="2",
            )
        ),
        rx.table.cell(
            rx.select(
                ROLES,
                value=member["role"].to(str),
                on_change=lambda role: S.change_role(user_id, role),
                disabled=AuthState.deny_manage != "",
                size="1",
                aria_label=f"Role of {member['email']}",
            ),
        ),
        rx.table.cell(member["joined"]),
        rx.table.cell(
            rx.cond(
                member["you"].to(bool),
                confirm(
                    rx.button("Leave", variant="soft", color_scheme="red", size="1", id="leave"),
                    title="Leave this workspace?",
                    text="You lose access to its schedules until someone invites you again.",
                    confirm_label="Leave",
                    on_confirm=S.leave,
                ),
                confirm_guarded(
                    rx.button(
                        "Remove",
                        variant="soft",
                        color_scheme="red",
                        size="1",
                        aria_label=f"Remove {member['email']}",
                    ),
                    AuthState.deny_manage,
                    title="Remove this member?",
                    text=f"{member['email']} loses access; API keys they made are revoked.",
                    confirm_label="Remove",
                    on_confirm=S.remove(user_id),
                ),
            )
        ),
        class_name="member-row",
    )


def invitation_row(invitation: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(invitation["email"]),
        rx.table.cell(rx.badge(invitation["role"], variant="soft")),
        rx.table.cell(invitation["by"]),
        rx.table.cell(invitation["expires"]),
        rx.table.cell(
            rx.button(
                "Revoke",
                variant="soft",
                color_scheme="red",
                size="1",
                on_click=S.revoke_invitation(invitation["id"]),
            )
        ),
    )


def table(headers: list[str], rows: rx.Var, row) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, row)),
            width="100%",
            variant="surface",
        ),
        width="100%",
        overflow_x="auto",
    )


def view() -> rx.Component:
    return page(
        "Members",
        rx.text(
            "Everyone here works on this workspace's schedules with their role's rights: "
            "viewers read, editors change schedules and targets, admins also manage "
            "members, channels and API keys, owners also rename or delete the workspace.",
            color_scheme="gray",
            size="2",
        ),
        invite_card(),
        table(["Member", "Role", "Joined", ""], S.members, member_row),
        rx.cond(
            S.invitations.length() > 0,
            rx.vstack(
                rx.heading("Open invitations", size="4"),
                table(
                    ["Email", "Role", "Invited by", "Expires", ""], S.invitations, invitation_row
                ),
                width="100%",
            ),
        ),
        workspace_card(),
    )
