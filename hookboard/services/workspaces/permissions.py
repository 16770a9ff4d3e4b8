"""Who may do what in a workspace: the one permission table.

The API, the dashboard and the CLI all ask `check(access, action)`; no route
or page compares roles itself. A role holds every right of the roles below it.
An API key acts as a viewer ("read" scope) or an editor ("write" scope), and
never as a person: it cannot reach the account, members, keys or the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hookboard.services.errors import ServiceError


class Role(StrEnum):
    viewer = "viewer"
    editor = "editor"
    admin = "admin"
    owner = "owner"


RANK = {Role.viewer: 0, Role.editor: 1, Role.admin: 2, Role.owner: 3}
# The roles an API key may carry, and the old scopes they replace.
KEY_ROLES = (Role.viewer, Role.editor)
ROLE_OF_SCOPE = {"read": Role.viewer, "write": Role.editor}
SCOPE_OF_ROLE = {role: scope for scope, role in ROLE_OF_SCOPE.items()}


class Action(StrEnum):
    """What a request does, as routes and pages name it."""

    read = "read"  # schedules, targets, runs, stats, channels (masked), keys (prefixes)
    write = "write"  # schedules and targets, pause/resume/trigger, replay, import, tests
    export_secrets = "export_secrets"  # header secrets unmasked in an export (a backup)
    read_secret = "read_secret"  # the signing secret, in full
    manage = "manage"  # channels, API keys, the signing secret's rotation, members, audit log
    own = "own"  # rename or delete the workspace, make or unmake owners
    account = "account"  # the person's own account: password, 2FA, sessions, workspaces


NEEDED = {
    Action.read: Role.viewer,
    Action.write: Role.editor,
    Action.export_secrets: Role.editor,
    Action.read_secret: Role.admin,
    Action.manage: Role.admin,
    Action.own: Role.owner,
    Action.account: Role.viewer,
}
# Actions only a person signed in may take, whatever a key's role.
PERSON_ONLY = frozenset({Action.read_secret, Action.manage, Action.own, Action.account})


@dataclass(frozen=True)
class Access:
    """Who acts, in which workspace, with which role: resolved once per request."""

    user_id: int | None  # the person, or the key's creator (None once they are gone)
    workspace_id: int
    role: Role
    api_key_id: int | None = None
    session_id: int | None = None
    email: str | None = None
    # Where the request came from (after TRUSTED_PROXY_HOPS), for the audit log.
    client_ip: str | None = None
    user_agent: str | None = None

    @property
    def is_key(self) -> bool:
        return self.api_key_id is not None


class Forbidden(ServiceError):
    """403: the caller is a member, but their role (or kind) lacks the right."""

    def __init__(self, message: str, *, needed: Role | None = None):
        super().__init__(message)
        self.message = message
        self.needed = needed


def allows(access: Access, action: Action) -> bool:
    if access.is_key and action in PERSON_ONLY:
        return False
    return RANK[access.role] >= RANK[NEEDED[action]]


def check(access: Access, action: Action) -> None:
    """Raise Forbidden unless `access` may take `action`, naming the role needed."""
    if allows(access, action):
        return
    needed = NEEDED[action]
    if access.is_key and action in PERSON_ONLY:
        if action == Action.account:
            raise Forbidden("this needs a session token (log in); an API key cannot do it")
        raise Forbidden(
            f"an API key cannot do this; a member with the {needed} role must, signed in",
            needed=needed,
        )
    raise Forbidden(
        f"this needs the {needed} role in this workspace (yours is {access.role})", needed=needed
    )


def reason_denied(role: Role | str, action: Action) -> str:
    """Why a member with `role` cannot take `action` ("" if they can): the dashboard's tooltips."""
    role = Role(role)
    if RANK[role] >= RANK[NEEDED[action]]:
        return ""
    return f"needs the {NEEDED[action]} role (yours is {role})"


def may_grant(granter: Role, role: Role) -> bool:
    """Admins hand out any role up to admin; only an owner makes owners."""
    return RANK[granter] >= RANK[Role.admin] and (role != Role.owner or granter == Role.owner)
