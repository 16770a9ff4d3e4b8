"""Helpers for the workspace, member and invitation API tests: people written
straight into the database (tests.api.support's way, no bcrypt per user) and a
shared workspace with one member of each role."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, select
from sqlmodel import Session

from hookboard.domain.tokens import new_api_key
from hookboard.models import ApiKey, AuditEvent, Membership
from hookboard.services.credentials import WORKSPACE_HEADER
from tests.api.support import new_account

ROLES = ("owner", "admin", "editor", "viewer")


@dataclass(frozen=True)
class Person:
    user_id: int
    email: str
    personal_id: int  # their personal workspace
    headers: dict[str, str]  # a session's bearer token

    def acting_in(self, workspace_id: int) -> dict[str, str]:
        """Their headers, acting in another of their workspaces."""
        return {**self.headers, WORKSPACE_HEADER: str(workspace_id)}


def new_person(engine: Engine, email: str) -> Person:
    account = new_account(engine, email)
    return Person(account.user_id, email, account.workspace_id, account.headers)


def add_member(engine: Engine, workspace_id: int, person: Person, role: str) -> None:
    with Session(engine) as session:
        session.add(Membership(workspace_id=workspace_id, user_id=person.user_id, role=role))
        session.commit()


def key_headers(engine: Engine, workspace_id: int, scope: str, creator: Person) -> dict[str, str]:
    issued = new_api_key()
    with Session(engine) as session:
        session.add(
            ApiKey(
                workspace_id=workspace_id,
                name=f"{scope} key",
                prefix=issued.display_prefix,
                key_hash=issued.token_hash,
                scope=scope,
                created_by_user_id=creator.user_id,
            )
        )
        session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def create_workspace(client: httpx.Client, owner: Person, name: str = "Team") -> dict:
    response = client.post("/workspaces", json={"name": name}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


@dataclass(frozen=True)
class Team:
    """A shared workspace with one member of each role, and someone outside it."""

    id: int
    name: str
    people: dict[str, Person]  # role -> member
    outsider: Person

    def __getattr__(self, role: str) -> Person:
        if role in ROLES:
            return self.people[role]
        raise AttributeError(role)


def make_team(client: httpx.Client, engine: Engine, name: str = "Team") -> Team:
    owner = new_person(engine, "owner@example.com")
    workspace = create_workspace(client, owner, name)
    people = {"owner": owner}
    for role in ROLES[1:]:
        people[role] = new_person(engine, f"{role}@example.com")
        add_member(engine, workspace["id"], people[role], role)
    return Team(workspace["id"], name, people, new_person(engine, "outsider@example.com"))


def role_of(engine: Engine, workspace_id: int, person: Person) -> str | None:
    with Session(engine) as session:
        return session.execute(
            select(Membership.role).where(
                Membership.workspace_id == workspace_id, Membership.user_id == person.user_id
            )
        ).scalar_one_or_none()


def audit_rows(engine: Engine, workspace_id: int, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.workspace_id == workspace_id, AuditEvent.action == action)
                .order_by(AuditEvent.id)
            ).scalars()
        )
