"""/workspaces/{id}/members and /leave over real HTTP, on SQLite and PostgreSQL:
role changes within each role's granting power, a workspace that always
keeps an owner, and removing or leaving."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session

from hookboard.models import Membership
from tests.api.support import error_of
from tests.api.workspaces_support import (
    add_member,
    audit_rows,
    key_headers,
    make_team,
    role_of,
)


def members_of(client, team, person):
    response = client.get(f"/workspaces/{team.id}/members", headers=person.headers)
    assert response.status_code == 200, response.text
    return {item["email"]: item["role"] for item in response.json()["items"]}


def set_role(client, team, caller, member, role):
    return client.patch(
        f"/workspaces/{team.id}/members/{member.user_id}",
        json={"role": role},
        headers=caller.headers,
    )


def remove(client, team, caller, member):
    return client.delete(f"/workspaces/{team.id}/members/{member.user_id}", headers=caller.headers)


def assert_conflict(response, code: str) -> str:
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == code
    return error_of(response)["message"]


def assert_forbidden(response, needed: str) -> None:
    assert response.status_code == 403, response.text
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert f"{needed} role" in error["message"], error


@pytest.mark.parametrize("role", ["owner", "admin", "editor", "viewer"])
def test_every_member_sees_the_members_and_their_roles(client, api_engine, role):
    team = make_team(client, api_engine)
    assert members_of(client, team, team.people[role]) == {
        "owner@example.com": "owner",
        "admin@example.com": "admin",
        "editor@example.com": "editor",
        "viewer@example.com": "viewer",
    }


def test_an_admin_changes_a_role_and_the_audit_log_records_it(client, api_engine):
    team = make_team(client, api_engine)
    response = set_role(client, team, team.admin, team.editor, "viewer")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["user_id"], body["email"], body["role"]) == (
        team.editor.user_id,
        "editor@example.com",
        "viewer",
    )
    assert role_of(api_engine, team.id, team.editor) == "viewer"
    [event] = audit_rows(api_engine, team.id, "member.role_change")
    assert (event.actor_id, event.object_id) == (team.admin.user_id, str(team.editor.user_id))
    assert event.changes == {"role": ["editor", "viewer"]}
    # The new role takes effect on the next request.
    denied = client.post("/schedules", json={}, headers=team.editor.acting_in(team.id))
    assert_forbidden(denied, "editor")


def test_an_admin_cannot_make_owners_nor_touch_one(client, api_engine):
    team = make_team(client, api_engine)
    assert_forbidden(set_role(client, team, team.admin, team.editor, "owner"), "owner")
    assert_forbidden(set_role(client, team, team.admin, team.admin, "owner"), "owner")
    assert_forbidden(set_role(client, team, team.admin, team.owner, "viewer"), "owner")
    assert_forbidden(remove(client, team, team.admin, team.owner), "owner")
    assert role_of(api_engine, team.id, team.owner) == "owner"
    assert role_of(api_engine, team.id, team.editor) == "editor"
    assert audit_rows(api_engine, team.id, "member.role_change") == []


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_cannot_manage_members(client, api_engine, role):
    team = make_team(client, api_engine)
    member = team.people[role]
    assert_forbidden(set_role(client, team, member, team.viewer, "editor"), "admin")
    assert_forbidden(set_role(client, team, member, member, "admin"), "admin")
    assert_forbidden(remove(client, team, member, team.viewer), "admin")
    assert len(members_of(client, team, team.owner)) == 4


def test_an_owner_makes_another_owner_who_may_then_demote_the_first(client, api_engine):
    team = make_team(client, api_engine)
    assert set_role(client, team, team.owner, team.admin, "owner").status_code == 200
    response = set_role(client, team, team.admin, team.owner, "editor")
    assert response.status_code == 200, response.text
    assert role_of(api_engine, team.id, team.owner) == "editor"
    # The former owner can no longer rename the workspace.
    renamed = client.patch(f"/workspaces/{team.id}", json={"name": "X"}, headers=team.owner.headers)
    assert_forbidden(renamed, "owner")


def test_the_last_owner_cannot_be_demoted_removed_or_leave(client, api_engine):
    team = make_team(client, api_engine)
    owner = team.owner
    for response in (
        set_role(client, team, owner, owner, "admin"),
        remove(client, team, owner, owner),
        client.post(f"/workspaces/{team.id}/leave", headers=owner.headers),
    ):
        message = assert_conflict(response, "last_owner")
        assert "at least one owner" in message
    assert role_of(api_engine, team.id, owner) == "owner"

    # With a second owner, the first may go.
    assert set_role(client, team, owner, team.admin, "owner").status_code == 200
    assert client.post(f"/workspaces/{team.id}/leave", headers=owner.headers).status_code == 204
    assert role_of(api_engine, team.id, owner) is None
    assert client.get(f"/workspaces/{team.id}", headers=owner.headers).status_code == 404
    # ... and now the other is the last one.
    assert_conflict(set_role(client, team, team.admin, team.admin, "viewer"), "last_owner")


def test_a_personal_workspace_keeps_its_own_user(client, api_engine):
    team = make_team(client, api_engine)
    alice, bob = team.outsider, team.editor
    workspace = alice.personal_id
    add_member(api_engine, workspace, bob, "owner")  # a co-owner of alice's personal workspace
    for response in (
        client.patch(
            f"/workspaces/{workspace}/members/{alice.user_id}",
            json={"role": "viewer"},
            headers=bob.headers,
        ),
        client.delete(f"/workspaces/{workspace}/members/{alice.user_id}", headers=bob.headers),
        client.post(f"/workspaces/{workspace}/leave", headers=alice.headers),
    ):
        assert_conflict(response, "personal_workspace")
    assert role_of(api_engine, workspace, alice) == "owner"
    # The co-owner is not the personal one's user: they may leave.
    assert client.post(f"/workspaces/{workspace}/leave", headers=bob.headers).status_code == 204


def test_removing_a_member_shuts_them_out_and_revokes_their_keys(client, api_engine):
    team = make_team(client, api_engine)
    key = key_headers(api_engine, team.id, "read", team.editor)
    others_key = key_headers(api_engine, team.id, "read", team.owner)
    assert client.get("/schedules", headers=key).status_code == 200

    response = remove(client, team, team.admin, team.editor)
    assert response.status_code == 204, response.text
    assert role_of(api_engine, team.id, team.editor) is None
    assert client.get(f"/workspaces/{team.id}", headers=team.editor.headers).status_code == 404
    assert client.get("/schedules", headers=team.editor.acting_in(team.id)).status_code == 404
    assert client.get("/schedules", headers=key).status_code == 401
    assert client.get("/schedules", headers=others_key).status_code == 200
    [event] = audit_rows(api_engine, team.id, "member.remove")
    assert event.changes == {"role": ["editor", None]}
    # Their own personal workspace is theirs still.
    assert client.get("/schedules", headers=team.editor.headers).status_code == 200
    # A second removal: no such member.
    assert remove(client, team, team.admin, team.editor).status_code == 404


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_any_member_may_leave(client, api_engine, role):
    team = make_team(client, api_engine)
    member = team.people[role]
    response = client.post(f"/workspaces/{team.id}/leave", headers=member.headers)
    assert response.status_code == 204, response.text
    assert member.email not in members_of(client, team, team.owner)
    [event] = audit_rows(api_engine, team.id, "member.leave")
    assert (event.actor_id, event.changes) == (member.user_id, {"role": [role, None]})
    listed = client.get("/workspaces", headers=member.headers).json()["items"]
    assert [item["id"] for item in listed] == [member.personal_id]


def test_unknown_members_and_roles(client, api_engine):
    team = make_team(client, api_engine)
    outsider = set_role(client, team, team.owner, team.outsider, "viewer")
    assert outsider.status_code == 404
    assert error_of(outsider)["message"] == "member not found"
    assert remove(client, team, team.owner, team.outsider).status_code == 404
    for role in ("superuser", "", None, 3):
        response = set_role(client, team, team.owner, team.viewer, role)
        assert response.status_code == 422, response.text
        assert error_of(response)["field"] == "role"
    huge = client.patch(
        f"/workspaces/{team.id}/members/{2**63}",
        json={"role": "viewer"},
        headers=team.owner.headers,
    )
    assert huge.status_code == 422
    assert error_of(huge)["field"] == "user_id"


def test_setting_the_same_role_changes_nothing(client, api_engine):
    team = make_team(client, api_engine)
    response = set_role(client, team, team.admin, team.viewer, "viewer")
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    assert audit_rows(api_engine, team.id, "member.role_change") == []


def make_owner(engine, workspace_id, person) -> None:
    with Session(engine) as session:
        session.execute(
            update(Membership)
            .where(Membership.workspace_id == workspace_id, Membership.user_id == person.user_id)
            .values(role="owner")
        )
        session.commit()


def test_two_owners_demoting_each_other_at_once_leave_one_owner(client, api_server, api_engine):
    """The owner count is checked under the workspace's row lock: of two owners
    demoting each other at the same moment, one wins and the other is refused."""
    team = make_team(client, api_engine)
    first, second = team.owner, team.admin
    base = api_server[0] + "/api/v1"

    def demote(pair) -> int:
        caller, member, barrier = pair
        with httpx.Client(base_url=base, timeout=30) as http:
            barrier.wait()
            return set_role(http, team, caller, member, "editor").status_code

    for _round in range(8):
        make_owner(api_engine, team.id, first)
        make_owner(api_engine, team.id, second)
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            pairs = [(first, second, barrier), (second, first, barrier)]
            statuses = sorted(pool.map(demote, pairs))
        # The loser is refused: 409 if it checked the owners under the lock, or
        # 403 if it was already demoted when its own role was looked up.
        assert statuses[0] == 200 and statuses[1] in (403, 409), statuses
        roles = sorted(role_of(api_engine, team.id, person) for person in (first, second))
        assert roles == ["editor", "owner"]
