"""A workspace's members: list them, change a role, remove one, leave.

Keyword-only functions on a Session; each change is a unit of work that checks
the permission table, writes the change and its audit row, and commits (like
services.accounts). The rules beyond the table's:

* a workspace always keeps an owner: demoting, removing or the leaving of its
  last owner is a 409 `last_owner`;
* making, demoting or removing an owner needs the owner role (may_grant, Action.own);
* a personal workspace keeps its own user, as its owner (409 `personal_workspace`);
* a member who goes (removed or leaving) takes the API keys they made there
  with them: they know those keys' secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from hookboard.models import ApiKey, Membership, User, Workspace
from hookboard.services import audit
from hookboard.services.errors import Conflict, InvalidInput, NotFound
from hookboard.services.pagination import valid_id
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action, Role
from hookboard.services.workspaces.workspaces import live_workspace


@dataclass(frozen=True)
class MemberInfo:
    user_id: int
    email: str
    role: Role
    joined_at: datetime


def parse_role(role: str, field: str = "role") -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(field, f"must be one of {', '.join(Role)}") from None


def check_may_grant(access: Access, role: Role) -> None:
    """Forbidden unless `access` may hand out `role` (only owners make owners)."""
    if not permissions.may_grant(access.role, role):
        permissions.check(access, Action.own)  # raises, naming the owner role


def list_members(session: Session, *, access: Access) -> list[MemberInfo]:
    """Every member, oldest first. Members of any role see it; keys do not (emails
    are a person's business: Action.account, a read by a person)."""
    permissions.check(access, Action.account)
    rows = session.exec(
        select(Membership, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == access.workspace_id)
        .order_by(col(Membership.id))
    ).all()
    return [_info(membership, email) for membership, email in rows]


def change_role(
    session: Session, *, access: Access, user_id: int, role: str, now: datetime | None = None
) -> MemberInfo:
    """Give a member another role (admins; owners for anything touching an owner)."""
    permissions.check(access, Action.manage)
    new_role = parse_role(role)
    workspace = live_workspace(session, access.workspace_id, for_update=True)
    membership, email = _member(session, workspace.id, user_id)
    old_role = Role(membership.role)
    if new_role == old_role:
        unchanged = _info(membership, email)
        session.rollback()  # ends the lock; nothing to write
        return unchanged
    check_may_grant(access, new_role)
    if old_role == Role.owner:
        permissions.check(access, Action.own)
        _keep_personal_owner(workspace, user_id, "change the role of")
        _keep_an_owner(session, workspace.id, "demote the last owner")
    membership.role = new_role.value
    session.add(membership)
    audit.record(
        session,
        access,
        "member.role_change",
        workspace_id=workspace.id,
        object_type="member",
        object_id=user_id,
        changes={"role": [old_role.value, new_role.value]},
        at=now or datetime.now(UTC),
    )
    session.commit()
    return _info(membership, email)


def remove_member(
    session: Session, *, access: Access, user_id: int, now: datetime | None = None
) -> None:
    """Take a member out of the workspace (admins; owners to remove an owner)."""
    permissions.check(access, Action.manage)
    workspace = live_workspace(session, access.workspace_id, for_update=True)
    membership, _email = _member(session, workspace.id, user_id)
    if membership.role == Role.owner:
        permissions.check(access, Action.own)
    _keep_personal_owner(workspace, user_id, "remove")
    if membership.role == Role.owner:
        _keep_an_owner(session, workspace.id, "remove the last owner")
    _drop(session, access, membership, "member.remove", now or datetime.now(UTC))


def leave_workspace(session: Session, *, access: Access, now: datetime | None = None) -> None:
    """The caller leaves the workspace (any role; a person, not a key)."""
    permissions.check(access, Action.account)
    workspace = live_workspace(session, access.workspace_id, for_update=True)
    if workspace.personal_for_user_id == access.user_id:
        raise Conflict(
            "you cannot leave your personal workspace: it goes with your account",
            code="personal_workspace",
        )
    membership, _email = _member(session, workspace.id, access.user_id)
    if membership.role == Role.owner:
        _keep_an_owner(session, workspace.id, "leave as its last owner")
    _drop(session, access, membership, "member.leave", now or datetime.now(UTC))


def count_members(session: Session, workspace_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Membership).where(Membership.workspace_id == workspace_id)
    ).one()


def is_member(session: Session, workspace_id: int, user_id: int) -> bool:
    found = select(Membership.id).where(
        Membership.workspace_id == workspace_id, Membership.user_id == user_id
    )
    return session.exec(found).first() is not None


def _info(membership: Membership, email: str) -> MemberInfo:
    return MemberInfo(
        user_id=membership.user_id,
        email=email,
        role=Role(membership.role),
        joined_at=membership.created_at,
    )


def _member(session: Session, workspace_id: int, user_id: int) -> tuple[Membership, str]:
    found = None
    if valid_id(user_id):
        found = session.exec(
            select(Membership, User.email)
            .join(User, User.id == Membership.user_id)
            .where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
        ).first()
    if found is None:
        raise NotFound("member")
    return found[0], found[1]


def _keep_personal_owner(workspace: Workspace, user_id: int, verb: str) -> None:
    if workspace.personal_for_user_id == user_id:
        raise Conflict(
            f"you cannot {verb} the user whose personal workspace this is: it stays theirs",
            code="personal_workspace",
        )


def _keep_an_owner(session: Session, workspace_id: int, what: str) -> None:
    """409 `last_owner` when the workspace has one owner only (the caller has
    checked that the member concerned is an owner)."""
    owners = session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner.value)
    ).one()
    if owners <= 1:
        raise Conflict(
            f"cannot {what}: a workspace always keeps at least one owner;"
            " make another member an owner first",
            code="last_owner",
        )


def _drop(
    session: Session, access: Access, membership: Membership, action: str, now: datetime
) -> None:
    """Delete the membership and revoke the keys its user made in the workspace."""
    keys = ApiKey.__table__
    session.execute(
        update(keys)
        .where(
            keys.c.workspace_id == membership.workspace_id,
            keys.c.created_by_user_id == membership.user_id,
            keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    audit.record(
        session,
        access,
        action,
        workspace_id=membership.workspace_id,
        object_type="member",
        object_id=membership.user_id,
        changes={"role": [membership.role, None]},
        at=now,
    )
    session.delete(membership)
    session.commit()
