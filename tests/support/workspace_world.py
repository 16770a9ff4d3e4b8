"""A shared workspace with one member of every role, written straight into the
database: the world the permission matrix (tests/api/test_permission_matrix.py)
sends its requests into.

Users get a fixed bcrypt hash (nobody logs in with it) and session tokens made
here, so a hundred-odd requests need no sign-up. Everything destructive a case
does is given a fresh object of its own (`fresh_*`), so cases do not depend on
their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session

from hookboard.domain.tokens import hash_token, new_api_key, new_session_token
from hookboard.models import (
    ApiKey,
    Attempt,
    AuthSession,
    Invitation,
    Membership,
    NotificationChannel,
    Run,
    Target,
    User,
)
from hookboard.services import crud
from hookboard.services.badge import new_badge_token

# bcrypt of "correct horse battery", computed once; nobody logs in with it here.
PASSWORD_HASH = "$2b$04$mU6KxAQcb2vuF4Z.6S8E.uTjMAnFXLROS6AQeRWxkRo426emx2PZ."
MEMBER_ROLES = {"owner": "owner", "admin": "admin", "editor": "editor", "viewer": "viewer"}


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Person:
    user_id: int
    token: str
    session_id: int
    personal_workspace_id: int


@dataclass
class World:
    """Workspace W (not personal) and what the matrix names in its paths."""

    workspace_id: int
    people: dict[str, Person]  # "owner", "admin", "editor", "viewer", "outsider"
    keys: dict[str, tuple[int, str]]  # "read", "write" of W; "outsider" of X's own: (id, token)
    schedule_id: int
    target_id: int
    run_id: int
    channel_id: int
    invitation_id: int
    badge_token: str
    extra: dict[str, int] = field(default_factory=dict)


def add_session(session: Session, user_id: int) -> tuple[int, str]:
    issued = new_session_token()
    row = AuthSession(
        user_id=user_id, token_hash=issued.token_hash, expires_at=now() + timedelta(days=1)
    )
    session.add(row)
    session.flush()
    return row.id, issued.token


def add_person(session: Session, email: str) -> Person:
    """A user with their personal workspace (as sign-up makes it) and a session."""
    user = User(email=email, password_hash=PASSWORD_HASH)
    session.add(user)
    session.flush()
    personal = crud.create_workspace(session, name="Personal", owner_id=user.id, personal=True)
    session_id, token = add_session(session, user.id)
    return Person(user.id, token, session_id, personal.id)


def add_key(session: Session, workspace_id: int, user_id: int, scope: str) -> tuple[int, str]:
    issued = new_api_key()
    key = ApiKey(
        workspace_id=workspace_id,
        created_by_user_id=user_id,
        name=f"{scope} key",
        prefix=issued.display_prefix,
        key_hash=issued.token_hash,
        scope=scope,
    )
    session.add(key)
    session.flush()
    return key.id, issued.token


def _add_objects(session: Session, workspace_id: int, owner_id: int) -> dict:
    target = Target(workspace_id=workspace_id, name="billing", url="http://127.0.0.1:9/billing")
    session.add(target)
    session.flush()
    schedule = crud.create_schedule(
        session,
        workspace_id=workspace_id,
        now=now(),
        name="nightly",
        kind="interval",
        every=1,
        unit="hours",
        target_id=target.id,
        badge_token=new_badge_token(),
    )
    run = Run(
        workspace_id=workspace_id,
        schedule_id=schedule.id,
        scheduled_for=now(),
        status="failed",
        attempt_count=1,
        max_attempts=1,
        status_code=500,
        error_class="http_5xx",
        finished_at=now(),
    )
    session.add(run)
    session.flush()
    session.add(
        Attempt(
            run_id=run.id,
            workspace_id=workspace_id,
            number=1,
            started_at=now(),
            error_class="http_5xx",
            status_code=500,
            request_method="POST",
            request_url=target.url,
        )
    )
    channel = NotificationChannel(
        workspace_id=workspace_id, name="ops mail", kind="email", email="ops@example.com"
    )
    session.add(channel)
    session.flush()
    invitation = _add_invitation(session, workspace_id, owner_id, "invited@example.com")
    return {
        "schedule_id": schedule.id,
        "target_id": target.id,
        "run_id": run.id,
        "channel_id": channel.id,
        "invitation_id": invitation,
        "badge_token": schedule.badge_token,
    }


def _add_invitation(session: Session, workspace_id: int, inviter_id: int, email: str) -> int:
    invitation = Invitation(
        workspace_id=workspace_id,
        email=email,
        role="viewer",
        token_hash=hash_token(new_session_token().token),
        invited_by_user_id=inviter_id,
        expires_at=now() + timedelta(days=7),
    )
    session.add(invitation)
    session.flush()
    return invitation.id


def build_world(engine: Engine) -> World:
    with Session(engine) as session:
        people = {name: add_person(session, f"{name}@example.com") for name in MEMBER_ROLES}
        people["outsider"] = add_person(session, "outsider@example.com")
        owner = people["owner"].user_id
        outsider = people["outsider"]
        workspace = crud.create_workspace(session, name="Team", owner_id=owner, personal=False)
        for name, role in MEMBER_ROLES.items():
            if role != "owner":
                session.add(
                    Membership(workspace_id=workspace.id, user_id=people[name].user_id, role=role)
                )
        keys = {
            "read": add_key(session, workspace.id, owner, "read"),
            "write": add_key(session, workspace.id, owner, "write"),
            "outsider": add_key(session, outsider.personal_workspace_id, outsider.user_id, "write"),
        }
        objects = _add_objects(session, workspace.id, owner)
        session.commit()
        return World(workspace_id=workspace.id, people=people, keys=keys, **objects)


# ------------------------------------------------------------------ fresh objects per case


def fresh_target(engine: Engine, world: World) -> int:
    with Session(engine) as session:
        target = Target(
            workspace_id=world.workspace_id, name=f"t{new_badge_token()[:10]}", url="http://x.test"
        )
        session.add(target)
        session.commit()
        return target.id


def fresh_schedule(engine: Engine, world: World) -> int:
    with Session(engine) as session:
        schedule = crud.create_schedule(
            session,
            workspace_id=world.workspace_id,
            now=now(),
            name="doomed",
            kind="interval",
            every=1,
            unit="hours",
            target_id=world.target_id,
        )
        session.commit()
        return schedule.id


def fresh_channel(engine: Engine, world: World) -> int:
    with Session(engine) as session:
        channel = NotificationChannel(
            workspace_id=world.workspace_id, name="doomed", kind="email", email="x@example.com"
        )
        session.add(channel)
        session.commit()
        return channel.id


def fresh_key(engine: Engine, world: World) -> int:
    with Session(engine) as session:
        key_id, _ = add_key(session, world.workspace_id, world.people["owner"].user_id, "read")
        session.commit()
        return key_id


def fresh_session(engine: Engine, user_id: int) -> tuple[int, str]:
    with Session(engine) as session:
        found = add_session(session, user_id)
        session.commit()
        return found


def fresh_invitation(engine: Engine, world: World) -> int:
    with Session(engine) as session:
        invitation = _add_invitation(
            session,
            world.workspace_id,
            world.people["owner"].user_id,
            f"i{new_badge_token()[:10].lower()}@example.com",
        )
        session.commit()
        return invitation


def fresh_member(engine: Engine, world: World) -> int:
    """A new viewer of W, for a case that changes or removes a member."""
    with Session(engine) as session:
        person = add_person(session, f"m{new_badge_token()[:10].lower()}@example.com")
        session.add(
            Membership(workspace_id=world.workspace_id, user_id=person.user_id, role="viewer")
        )
        session.commit()
        return person.user_id


def restore_members(engine: Engine, world: World) -> None:
    """Every role's member back in W with their role (after a case that left)."""
    with Session(engine) as session:
        for name, role in MEMBER_ROLES.items():
            user_id = world.people[name].user_id
            session.exec(
                delete(Membership).where(
                    Membership.workspace_id == world.workspace_id, Membership.user_id == user_id
                )
            )
            session.add(Membership(workspace_id=world.workspace_id, user_id=user_id, role=role))
        session.commit()
