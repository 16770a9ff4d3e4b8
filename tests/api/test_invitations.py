"""Invitations over real HTTP, on SQLite and PostgreSQL, with a real SMTP server:
invite (the token shown once, emailed), accept with the invited address only
(signing up after the invitation too), single use, expiry, replacement,
revocation and who may invite whom."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from hookboard.domain.tokens import hash_token
from hookboard.models import Invitation
from hookboard.services.credentials import member_access
from hookboard.services.workspaces import invitations
from hookboard.settings import Settings
from tests.api.conftest import signup
from tests.api.support import error_of
from tests.api.workspaces_support import (
    add_member,
    audit_rows,
    key_headers,
    make_team,
    new_person,
    role_of,
)
from tests.support.smtp import SmtpServer, free_port

PUBLIC_URL = "https://hookboard.example.com"
SMTP_PORT = free_port()
MAX_OPEN = 3
MAX_MEMBERS = 5  # a team (tests.api.workspaces_support.make_team) has 4
MAX_WORKSPACES = 3
API_SETTINGS = {
    "MAX_MEMBERS_PER_WORKSPACE": str(MAX_MEMBERS),
    "MAX_WORKSPACES_PER_USER": str(MAX_WORKSPACES),
    "PUBLIC_URL": PUBLIC_URL,
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": str(SMTP_PORT),
    "SMTP_TLS": "none",
    "MAX_OPEN_INVITATIONS_PER_WORKSPACE": str(MAX_OPEN),
}
NOT_FOUND = "invitation not found or expired"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer(port=SMTP_PORT) as server:
        yield server


@pytest.fixture
def mailbox(smtp_server) -> SmtpServer:
    smtp_server.messages.clear()
    smtp_server.recipients.clear()
    return smtp_server


def invite(client, team, inviter, email, role="editor"):
    return client.post(
        f"/workspaces/{team.id}/invitations",
        json={"email": email, "role": role},
        headers=inviter.headers,
    )


def invited(client, team, email, role="editor", inviter=None) -> dict:
    response = invite(client, team, inviter or team.admin, email, role)
    assert response.status_code == 201, response.text
    return response.json()


def accept(client, person_headers, token):
    return client.post("/invitations/accept", json={"token": token}, headers=person_headers)


def assert_not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert error_of(response)["message"] == NOT_FOUND


def open_invitations(client, team) -> list[dict]:
    response = client.get(f"/workspaces/{team.id}/invitations", headers=team.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_invitation_shows_its_token_once_and_emails_the_link(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    before = datetime.now(UTC)
    response = invite(client, team, team.admin, "  New.Person@Example.com ", "viewer")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "viewer"
    assert body["invited_by_email"] == "admin@example.com"
    assert body["token"].startswith("hbi_") and len(body["token"]) > 40
    assert body["link"] == f"{PUBLIC_URL}/invite?token={body['token']}"
    assert body["emailed"] is True
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    assert timedelta(hours=71.9) < expires - before < timedelta(hours=72.1)

    [message] = mailbox.wait_for(1)
    assert mailbox.recipients == [["new.person@example.com"]]
    assert "Team" in message["Subject"]
    assert body["link"] in message.get_payload(decode=True).decode()

    # The list never shows the token; the database holds only its hash.
    [listed] = open_invitations(client, team)
    assert "token" not in listed and "link" not in listed
    assert listed["id"] == body["id"] and listed["email"] == "new.person@example.com"
    with Session(api_engine) as session:
        stored = session.get(Invitation, body["id"])
        assert stored.token_hash == hash_token(body["token"])
        assert body["token"] not in repr(stored.model_dump())
    [event] = audit_rows(api_engine, team.id, "member.invite")
    assert event.changes == {"email": [None, "new.person@example.com"], "role": [None, "viewer"]}
    assert body["token"] not in str(event.changes)


def test_the_invited_user_accepts_once_and_becomes_a_member(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    token = invited(client, team, "Dana@example.com", "editor")["token"]

    response = accept(client, dana.headers, token)
    assert response.status_code == 200, response.text
    joined = response.json()
    assert (joined["id"], joined["name"], joined["role"]) == (team.id, "Team", "editor")
    assert joined["personal"] is False
    assert role_of(api_engine, team.id, dana) == "editor"
    [event] = audit_rows(api_engine, team.id, "member.accept")
    assert (event.actor_id, event.object_id) == (dana.user_id, str(dana.user_id))
    assert open_invitations(client, team) == []

    # Single use: the same token again, by anyone, is not found.
    assert_not_found(accept(client, dana.headers, token))
    assert_not_found(accept(client, team.outsider.headers, token))
    # And dana acts in the team as an editor.
    schedules = client.get("/schedules", headers=dana.acting_in(team.id))
    assert schedules.status_code == 200


def test_signing_up_after_the_invitation_with_its_address_works(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    token = invited(client, team, "newcomer@example.com", "viewer")["token"]
    headers = signup(client, "Newcomer@Example.com")
    response = accept(client, headers, token)
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "viewer"
    listed = client.get("/workspaces", headers=headers).json()["items"]
    assert [(item["personal"], item["role"]) for item in listed] == [
        (True, "owner"),
        (False, "viewer"),
    ]


def test_another_address_cannot_accept_and_the_invitation_stays(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    token = invited(client, team, "dana@example.com")["token"]
    response = accept(client, team.outsider.headers, token)
    assert response.status_code == 403, response.text
    assert error_of(response)["code"] == "forbidden"
    assert "dana@example.com" not in response.text
    assert role_of(api_engine, team.id, team.outsider) is None
    assert accept(client, dana.headers, token).status_code == 200


def test_an_expired_invitation_is_not_found(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    settings = Settings(invitation_ttl_hours=1)
    with Session(api_engine) as session:
        access = member_access(
            session.connection(), user_id=team.admin.user_id, workspace_id=team.id
        )
        session.rollback()
        created = invitations.invite(
            session,
            access=access,
            email="dana@example.com",
            role="viewer",
            now=datetime.now(UTC) - timedelta(hours=1, seconds=5),
            settings=settings,
        )
    assert created.link == f"/invite?token={created.token}"  # no PUBLIC_URL here
    assert_not_found(accept(client, dana.headers, created.token))
    assert open_invitations(client, team) == []
    assert role_of(api_engine, team.id, dana) is None

    # One just inside its hour is still good.
    with Session(api_engine) as session:
        access = member_access(
            session.connection(), user_id=team.admin.user_id, workspace_id=team.id
        )
        session.rollback()
        fresh = invitations.invite(
            session,
            access=access,
            email="dana@example.com",
            role="viewer",
            now=datetime.now(UTC) - timedelta(minutes=59),
            settings=settings,
        )
    assert accept(client, dana.headers, fresh.token).status_code == 200


@pytest.mark.parametrize("token", ["", "hbi_unknown", "x" * 201, "hbi_\u0000"])
def test_unknown_or_malformed_tokens_are_never_a_500(client, api_engine, token):
    dana = new_person(api_engine, "dana@example.com")
    response = accept(client, dana.headers, token)
    assert response.status_code in (404, 422), response.text
    if response.status_code == 404:
        assert error_of(response)["message"] == NOT_FOUND
    else:
        assert error_of(response)["field"] == "token"


def test_a_second_invitation_replaces_the_first(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    first = invited(client, team, "dana@example.com", "viewer")
    second = invited(client, team, "DANA@example.com", "admin")
    assert second["id"] != first["id"]
    assert [item["id"] for item in open_invitations(client, team)] == [second["id"]]
    assert_not_found(accept(client, dana.headers, first["token"]))
    assert accept(client, dana.headers, second["token"]).json()["role"] == "admin"


def test_an_admin_revokes_an_invitation(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    created = invited(client, team, "dana@example.com")
    path = f"/workspaces/{team.id}/invitations/{created['id']}"
    assert client.delete(path, headers=team.admin.headers).status_code == 204
    assert open_invitations(client, team) == []
    assert_not_found(accept(client, dana.headers, created["token"]))
    [event] = audit_rows(api_engine, team.id, "invitation.revoke")
    assert event.changes == {"email": ["dana@example.com", None], "role": ["editor", None]}
    assert client.delete(path, headers=team.admin.headers).status_code == 404


def test_an_invitation_of_another_workspace_is_not_revoked_here(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    created = invited(client, team, "dana@example.com")
    owner = team.outsider  # owner of their personal workspace
    path = f"/workspaces/{owner.personal_id}/invitations/{created['id']}"
    assert client.delete(path, headers=owner.headers).status_code == 404
    assert len(open_invitations(client, team)) == 1


def test_only_owners_invite_owners(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    response = invite(client, team, team.admin, "boss@example.com", "owner")
    assert response.status_code == 403, response.text
    assert error_of(response)["code"] == "forbidden"
    assert "owner role" in error_of(response)["message"]
    assert open_invitations(client, team) == []
    by_owner = invited(client, team, "boss@example.com", "owner", inviter=team.owner)
    # An admin can neither revoke an owner's invitation.
    path = f"/workspaces/{team.id}/invitations/{by_owner['id']}"
    assert client.delete(path, headers=team.admin.headers).status_code == 403
    boss = new_person(api_engine, "boss@example.com")
    assert accept(client, boss.headers, by_owner["token"]).json()["role"] == "owner"


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_cannot_invite_nor_see_invitations(client, api_engine, role):
    team = make_team(client, api_engine)
    member = team.people[role]
    base = f"/workspaces/{team.id}/invitations"
    for response in (
        invite(client, team, member, "dana@example.com", "viewer"),
        client.get(base, headers=member.headers),
        client.delete(f"{base}/1", headers=member.headers),
    ):
        assert response.status_code == 403, response.text
        assert "admin role" in error_of(response)["message"]


def test_an_api_key_cannot_invite(client, api_engine):
    team = make_team(client, api_engine)
    key = key_headers(api_engine, team.id, "write", team.admin)
    response = client.post(
        f"/workspaces/{team.id}/invitations",
        json={"email": "dana@example.com", "role": "viewer"},
        headers=key,
    )
    assert response.status_code == 403
    assert accept(client, key, "hbi_whatever").status_code == 403


def test_members_are_neither_invited_nor_accept_twice(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    response = invite(client, team, team.admin, "Viewer@example.com", "editor")
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "already_member"

    dana = new_person(api_engine, "dana@example.com")
    token = invited(client, team, "dana@example.com")["token"]
    add_member(api_engine, team.id, dana, "viewer")  # joined meanwhile, some other way
    response = accept(client, dana.headers, token)
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "already_member"
    assert role_of(api_engine, team.id, dana) == "viewer"


def test_open_invitations_are_capped(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    for number in range(MAX_OPEN):
        invited(client, team, f"guest{number}@example.com")
    response = invite(client, team, team.admin, "one.more@example.com")
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "quota_exceeded"
    # Replacing one at the cap is fine: it is not one more.
    assert invite(client, team, team.admin, "guest0@example.com").status_code == 201


def test_members_per_workspace_are_capped(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana, erin = (
        new_person(api_engine, "dana@example.com"),
        new_person(api_engine, "erin@example.com"),
    )
    for_dana = invited(client, team, "dana@example.com")["token"]
    for_erin = invited(client, team, "erin@example.com")["token"]
    assert accept(client, dana.headers, for_dana).status_code == 200  # the fifth member
    response = accept(client, erin.headers, for_erin)
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "quota_exceeded"
    assert "MAX_MEMBERS_PER_WORKSPACE" in error_of(response)["message"]
    assert role_of(api_engine, team.id, erin) is None
    full = invite(client, team, team.admin, "frank@example.com")
    assert full.status_code == 409
    assert error_of(full)["code"] == "quota_exceeded"


def test_joining_counts_against_the_workspaces_per_user(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    token = invited(client, team, "dana@example.com")["token"]
    for number in range(MAX_WORKSPACES - 1):  # with the personal one: at the cap
        created = client.post("/workspaces", json={"name": f"D{number}"}, headers=dana.headers)
        assert created.status_code == 201
    response = accept(client, dana.headers, token)
    assert response.status_code == 409, response.text
    assert "MAX_WORKSPACES_PER_USER" in error_of(response)["message"]
    assert role_of(api_engine, team.id, dana) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "role": "viewer"}, "email"),
        ({"email": "a@" + "b" * 400 + ".com", "role": "viewer"}, "email"),
        ({"email": "a\u200b@example.com", "role": "viewer"}, "email"),
        ({"email": "dana@example.com", "role": "superuser"}, "role"),
        ({"email": "dana@example.com"}, "role"),
        ({"email": "dana@example.com", "role": "viewer", "extra": 1}, "extra"),
    ],
)
def test_bad_invitations_are_422_naming_the_field(client, api_engine, body, field):
    team = make_team(client, api_engine)
    response = client.post(
        f"/workspaces/{team.id}/invitations", json=body, headers=team.admin.headers
    )
    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == field


def test_an_invitation_to_a_deleted_workspace_is_not_found(client, api_engine, mailbox):
    team = make_team(client, api_engine)
    dana = new_person(api_engine, "dana@example.com")
    token = invited(client, team, "dana@example.com")["token"]
    deleted = client.request(
        "DELETE", f"/workspaces/{team.id}", json={"confirm": "Team"}, headers=team.owner.headers
    )
    assert deleted.status_code == 200
    assert_not_found(accept(client, dana.headers, token))
    with Session(api_engine) as session:
        assert session.execute(select(Invitation)).all() == []
