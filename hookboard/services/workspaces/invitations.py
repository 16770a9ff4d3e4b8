"""Invitations: an admin invites an email address with a role; the person with
that address accepts, signed in (or signed up) with it, and becomes a member.

Keyword-only functions on a Session; each change is a unit of work that checks
the permission table, writes the change and its audit row, and commits (like
services.accounts). The token is random and single-use, shown once (as a link)
and stored as its sha256 hash only; it expires after INVITATION_TTL_HOURS. A
second invitation to the same address replaces the first. With SMTP_HOST set
the link is emailed too, after the commit, through the alerts' own sender.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from hookboard.alerts.senders import AlertSendError, Outgoing, Smtp, send_email
from hookboard.domain.tokens import TOKEN_BYTES, hash_token
from hookboard.models import Invitation, Membership, User, Workspace
from hookboard.services import audit
from hookboard.services.accounts.errors import InvalidInputError
from hookboard.services.accounts.rules import normalise_email, validate_email
from hookboard.services.errors import Conflict, InvalidInput, NotFound
from hookboard.services.pagination import valid_id
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.members import (
    check_may_grant,
    count_members,
    is_member,
    parse_role,
)
from hookboard.services.workspaces.permissions import Access, Action, Forbidden, Role
from hookboard.services.workspaces.workspaces import (
    WorkspaceSummary,
    check_workspace_quota,
    live_workspace,
    summary_of,
)
from hookboard.settings import Settings, get_settings

log = logging.getLogger("hookboard.invitations")

INVITATION_PREFIX = "hbi_"
# Longer than any token we issue; a longer one is simply unknown.
MAX_TOKEN_CHARS = 200
INVITE_PATH = "/invite"


@dataclass(frozen=True)
class InvitationInfo:
    id: int
    email: str
    role: Role
    expires_at: datetime
    invited_by_email: str | None  # None once the inviter's account is gone


@dataclass(frozen=True)
class CreatedInvitation:
    info: InvitationInfo
    token: str  # shown once
    link: str  # PUBLIC_URL/invite?token=..., or relative without PUBLIC_URL
    emailed: bool = False  # True when SMTP is set and the server took the email


class InvitationNotFound(NotFound):
    """Unknown, expired, used or revoked: one answer for all."""

    MESSAGE = "invitation not found or expired"

    def __init__(self):
        super().__init__("invitation")
        self.args = (self.MESSAGE,)


def list_invitations(
    session: Session, *, access: Access, now: datetime | None = None
) -> list[InvitationInfo]:
    """The workspace's invitations not yet accepted nor expired, oldest first."""
    permissions.check(access, Action.manage)
    now = now or datetime.now(UTC)
    rows = session.exec(
        select(Invitation, User.email)
        .outerjoin(User, User.id == Invitation.invited_by_user_id)
        .where(Invitation.workspace_id == access.workspace_id, col(Invitation.expires_at) > now)
        .order_by(col(Invitation.id))
    ).all()
    return [_info(invitation, inviter) for invitation, inviter in rows]


def invite(
    session: Session,
    *,
    access: Access,
    email: str,
    role: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CreatedInvitation:
    """Invite `email` with `role` (admins; only owners invite owners). Replaces an
    earlier invitation to the same address; emails the link when SMTP is set."""
    permissions.check(access, Action.manage)
    settings = settings or get_settings()
    email = _clean_email(email)
    role = parse_role(role)
    check_may_grant(access, role)
    now = now or datetime.now(UTC)
    workspace = live_workspace(session, access.workspace_id, for_update=True)
    _check_not_member(session, workspace.id, email)
    _make_room(session, workspace.id, email, now, settings)
    token = INVITATION_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        workspace_id=workspace.id,
        email=email,
        role=role.value,
        token_hash=hash_token(token),
        invited_by_user_id=access.user_id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.invitation_ttl_hours),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        access,
        "member.invite",
        workspace_id=workspace.id,
        object_type="invitation",
        object_id=invitation.id,
        changes={"email": [None, email], "role": [None, role.value]},
        at=now,
    )
    session.commit()
    info = _info(invitation, access.email)
    link = f"{settings.public_url}{INVITE_PATH}?token={token}"
    emailed = _send(Smtp.from_settings(settings), info, workspace.name, link)
    return CreatedInvitation(info=info, token=token, link=link, emailed=emailed)


def revoke_invitation(
    session: Session, *, access: Access, invitation_id: int, now: datetime | None = None
) -> None:
    """Withdraw an invitation before it is used (admins; owners for an owner's)."""
    permissions.check(access, Action.manage)
    invitation = None
    if valid_id(invitation_id):
        invitation = session.exec(
            select(Invitation).where(
                Invitation.id == invitation_id, Invitation.workspace_id == access.workspace_id
            )
        ).first()
    if invitation is None:
        raise NotFound("invitation")
    check_may_grant(access, Role(invitation.role))
    audit.record(
        session,
        access,
        "invitation.revoke",
        workspace_id=invitation.workspace_id,
        object_type="invitation",
        object_id=invitation.id,
        changes={"email": [invitation.email, None], "role": [invitation.role, None]},
        at=now or datetime.now(UTC),
    )
    session.delete(invitation)
    session.commit()


def accept_invitation(
    session: Session,
    *,
    user_id: int,
    token: str,
    now: datetime | None = None,
    client_ip: str | None = None,
    user_agent: str | None = None,
    settings: Settings | None = None,
) -> WorkspaceSummary:
    """Join the workspace with the invitation's role. The user's address must be
    the one invited; the token is used up. Unknown, expired or used tokens are
    InvitationNotFound; a member already is a 409 `already_member`."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvitationNotFound()
    found = session.exec(
        select(Invitation, Workspace)
        .join(Workspace, Workspace.id == Invitation.workspace_id)
        .where(
            Invitation.token_hash == hash_token(token),
            col(Invitation.expires_at) > now,
            col(Workspace.deleted_at).is_(None),
        )
    ).first()
    if found is None:
        raise InvitationNotFound()
    invitation, workspace = found
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("user")
    if normalise_email(user.email) != invitation.email:
        raise Forbidden(
            "this invitation is for another email address: sign in, or sign up, with the"
            " address it was sent to"
        )
    live_workspace(session, workspace.id, for_update=True)
    if is_member(session, workspace.id, user_id):
        raise Conflict("you are already a member of this workspace", code="already_member")
    check_workspace_quota(session, user_id, settings)
    _check_member_quota(session, workspace.id, settings)
    # Single use: of two accepting at once, one deletes the row and the other finds none.
    used = session.execute(delete(Invitation).where(Invitation.id == invitation.id))
    if used.rowcount != 1:
        session.rollback()
        raise InvitationNotFound()
    role = Role(invitation.role)
    session.add(
        Membership(workspace_id=workspace.id, user_id=user_id, role=role.value, created_at=now)
    )
    actor = Access(
        user_id=user_id,
        workspace_id=workspace.id,
        role=role,
        email=user.email,
        client_ip=client_ip,
        user_agent=user_agent,
    )
    audit.record(
        session,
        actor,
        "member.accept",
        workspace_id=workspace.id,
        object_type="member",
        object_id=user_id,
        changes={"role": [None, role.value], "invitation_id": [invitation.id, None]},
        at=now,
    )
    session.commit()
    return summary_of(workspace, role)


def _info(invitation: Invitation, inviter_email: str | None) -> InvitationInfo:
    return InvitationInfo(
        id=invitation.id,
        email=invitation.email,
        role=Role(invitation.role),
        expires_at=invitation.expires_at,
        invited_by_email=inviter_email,
    )


def _clean_email(email: str) -> str:
    try:
        return validate_email(email if isinstance(email, str) else "")
    except InvalidInputError as error:
        raise InvalidInput("email", str(error)) from None


def _check_not_member(session: Session, workspace_id: int, email: str) -> None:
    member = session.exec(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, User.email == email)
    ).first()
    if member is not None:
        raise Conflict(
            "this address belongs to a member already; change their role instead",
            code="already_member",
            field="email",
        )


def _make_room(
    session: Session, workspace_id: int, email: str, now: datetime, settings: Settings
) -> None:
    """Drop expired invitations and the address's earlier one; refuse past the bounds."""
    invitations = Invitation.__table__
    session.execute(
        delete(invitations).where(
            invitations.c.workspace_id == workspace_id,
            (invitations.c.expires_at <= now) | (invitations.c.email == email),
        )
    )
    limit = settings.max_open_invitations_per_workspace
    open_count = session.exec(
        select(func.count()).select_from(Invitation).where(Invitation.workspace_id == workspace_id)
    ).one()
    if open_count >= limit:
        raise Conflict(
            f"at most {limit} open invitations per workspace"
            " (MAX_OPEN_INVITATIONS_PER_WORKSPACE); revoke one first",
            code="quota_exceeded",
        )
    _check_member_quota(session, workspace_id, settings)


def _check_member_quota(session: Session, workspace_id: int, settings: Settings) -> None:
    limit = settings.max_members_per_workspace
    if count_members(session, workspace_id) >= limit:
        raise Conflict(
            f"at most {limit} members per workspace (MAX_MEMBERS_PER_WORKSPACE); remove one first",
            code="quota_exceeded",
        )


def _send(smtp: Smtp, info: InvitationInfo, workspace_name: str, link: str) -> bool:
    """Email the link (blocking, after the commit); False when SMTP is off or fails.
    The link is in the response either way, so a failed email loses nothing."""
    if not smtp.configured:
        return False
    inviter = info.invited_by_email or "A member"
    expires = info.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"{inviter} invited you to the Hookboard workspace {workspace_name!r} as {info.role}.\n\n"
        f"Accept the invitation: {link}\n\n"
        f"Sign in, or sign up, with this email address ({info.email}) to accept. The link"
        f" works once, until {expires}.\n\n"
        "If you did not expect this invitation, ignore this email."
    )
    outgoing = Outgoing(
        alert_id=f"invitation_{info.id}_{secrets.token_hex(4)}",
        event="invitation",
        subject=f"Invitation to the workspace {workspace_name!r}",
        text=text,
    )
    try:
        send_email(smtp, info.email, outgoing)
    except AlertSendError as error:
        log.warning("invitation %s: email not sent: %s", info.id, error)
        return False
    return True
