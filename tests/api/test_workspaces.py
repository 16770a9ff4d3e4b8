"""/workspaces over real HTTP, on SQLite and PostgreSQL: create, list, rename,
delete (confirmed by name; never a personal workspace), who may reach which
route, and acting in a shared workspace with the Hookboard-Workspace header."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from hookboard.api.app import create_api
from hookboard.models import Schedule, Workspace
from tests.api.conftest import signup
from tests.api.support import create_schedule, error_of, schedule_body
from tests.api.workspaces_support import (
    audit_rows,
    create_workspace,
    key_headers,
    make_team,
    new_person,
)

MAX_WORKSPACES = 4
API_SETTINGS = {"MAX_WORKSPACES_PER_USER": str(MAX_WORKSPACES)}

# Every route under /workspaces/{id}: (method, path after the id, JSON body).
WORKSPACE_ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"name": "Renamed"}),
    ("DELETE", "", {"confirm": "Team"}),
    ("GET", "/members", None),
    ("PATCH", "/members/1", {"role": "viewer"}),
    ("DELETE", "/members/1", None),
    ("POST", "/leave", None),
    ("GET", "/invitations", None),
    ("POST", "/invitations", {"email": "new@example.com", "role": "viewer"}),
    ("DELETE", "/invitations/1", None),
]


def call(client, method, path, headers, body=None):
    return client.request(method, path, headers=headers, json=body)


def test_signup_makes_a_personal_workspace_listed_with_the_owner_role(client):
    auth = signup(client)
    response = client.get("/workspaces", headers=auth)
    assert response.status_code == 200, response.text
    [personal] = response.json()["items"]
    assert personal["personal"] is True
    assert personal["role"] == "owner"
    assert personal["name"] == "Personal"


def test_a_created_workspace_is_owned_listed_and_audited(client, api_engine):
    alice = new_person(api_engine, "alice@example.com")
    created = create_workspace(client, alice, "  Billing team ")
    assert created["name"] == "Billing team"
    assert (created["role"], created["personal"]) == ("owner", False)

    listed = client.get("/workspaces", headers=alice.headers).json()["items"]
    assert [item["id"] for item in listed] == [alice.personal_id, created["id"]]
    fetched = client.get(f"/workspaces/{created['id']}", headers=alice.headers)
    assert fetched.json() == created

    [event] = audit_rows(api_engine, created["id"], "workspace.create")
    assert event.actor_id == alice.user_id
    assert event.changes == {"name": [None, "Billing team"]}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\u202ename", "line\nbreak", None, 7])
def test_a_bad_name_is_a_422_naming_the_field(client, api_engine, name):
    alice = new_person(api_engine, "alice@example.com")
    response = client.post("/workspaces", json={"name": name}, headers=alice.headers)
    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == "name"


def test_unknown_fields_are_refused(client, api_engine):
    alice = new_person(api_engine, "alice@example.com")
    response = client.post("/workspaces", json={"name": "A", "owner": 1}, headers=alice.headers)
    assert response.status_code == 422
    assert error_of(response)["field"] == "owner"


def test_workspaces_per_user_are_capped(client, api_engine):
    alice = new_person(api_engine, "alice@example.com")
    for number in range(MAX_WORKSPACES - 1):  # the personal one counts
        create_workspace(client, alice, f"Team {number}")
    response = client.post("/workspaces", json={"name": "One more"}, headers=alice.headers)
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "quota_exceeded"
    assert "MAX_WORKSPACES_PER_USER" in error_of(response)["message"]


def test_the_owner_renames_and_the_audit_log_says_from_what(client, api_engine):
    team = make_team(client, api_engine)
    response = client.patch(
        f"/workspaces/{team.id}", json={"name": "Platform"}, headers=team.owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Platform"
    # Every member sees the new name.
    seen = client.get(f"/workspaces/{team.id}", headers=team.viewer.headers).json()
    assert (seen["name"], seen["role"]) == ("Platform", "viewer")
    [event] = audit_rows(api_engine, team.id, "workspace.rename")
    assert event.changes == {"name": ["Team", "Platform"]}


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_only_an_owner_renames_or_deletes(client, api_engine, role):
    team = make_team(client, api_engine)
    member = team.people[role]
    for method, body in (("PATCH", {"name": "Mine"}), ("DELETE", {"confirm": "Team"})):
        response = call(client, method, f"/workspaces/{team.id}", member.headers, body)
        assert response.status_code == 403, response.text
        error = error_of(response)
        assert error["code"] == "forbidden"
        assert "owner role" in error["message"] and role in error["message"]
    assert client.get(f"/workspaces/{team.id}", headers=member.headers).json()["name"] == "Team"


def test_delete_needs_the_name_typed_as_confirm(client, api_engine):
    team = make_team(client, api_engine)
    for confirm in ("team", "Tea", ""):
        response = client.request(
            "DELETE",
            f"/workspaces/{team.id}",
            json={"confirm": confirm},
            headers=team.owner.headers,
        )
        assert response.status_code == 422, response.text
        assert error_of(response)["field"] == "confirm"
    missing = client.request("DELETE", f"/workspaces/{team.id}", headers=team.owner.headers)
    assert missing.status_code == 422
    assert client.get(f"/workspaces/{team.id}", headers=team.owner.headers).status_code == 200


def test_deleting_stops_the_workspace_and_removes_its_data(client, api_engine):
    team = make_team(client, api_engine)
    in_team = team.editor.acting_in(team.id)
    create_schedule(client, in_team)
    key = key_headers(api_engine, team.id, "write", team.admin)
    assert client.get("/schedules", headers=key).status_code == 200

    response = client.request(
        "DELETE", f"/workspaces/{team.id}", json={"confirm": "Team"}, headers=team.owner.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == team.id and body["data_deleted"] is True

    # Gone for every member and every credential; the rows are purged.
    for person in team.people.values():
        assert client.get(f"/workspaces/{team.id}", headers=person.headers).status_code == 404
        assert client.get("/schedules", headers=person.acting_in(team.id)).status_code == 404
    assert client.get("/schedules", headers=key).status_code == 401
    listed = client.get("/workspaces", headers=team.owner.headers).json()["items"]
    assert [item["id"] for item in listed] == [team.owner.personal_id]
    with Session(api_engine) as session:
        assert session.get(Workspace, team.id) is None
        count = select(func.count()).select_from(Schedule).where(Schedule.workspace_id == team.id)
        assert session.execute(count).scalar_one() == 0
    # Their personal workspaces are untouched.
    assert client.get("/schedules", headers=team.editor.headers).status_code == 200


def test_a_personal_workspace_is_not_deleted_on_its_own(client, api_engine):
    alice = new_person(api_engine, "alice@example.com")
    response = client.request(
        "DELETE",
        f"/workspaces/{alice.personal_id}",
        json={"confirm": "Personal"},
        headers=alice.headers,
    )
    assert response.status_code == 409, response.text
    error = error_of(response)
    assert error["code"] == "personal_workspace"
    assert "account" in error["message"]
    assert client.get(f"/workspaces/{alice.personal_id}", headers=alice.headers).status_code == 200


@pytest.mark.parametrize(("method", "suffix", "body"), WORKSPACE_ROUTES)
def test_a_non_member_gets_404_as_for_a_missing_workspace(client, api_engine, method, suffix, body):
    team = make_team(client, api_engine)
    outsider = call(client, method, f"/workspaces/{team.id}{suffix}", team.outsider.headers, body)
    missing = call(client, method, f"/workspaces/{team.id + 999}{suffix}", team.owner.headers, body)
    assert outsider.status_code == missing.status_code == 404, outsider.text
    assert outsider.json() == missing.json()
    # The header does not let an outsider in either, nor does a workspace of their own.
    via_header = call(
        client,
        method,
        f"/workspaces/{team.id}{suffix}",
        team.outsider.acting_in(team.outsider.personal_id),
        body,
    )
    assert via_header.status_code == 404


@pytest.mark.parametrize(("method", "suffix", "body"), WORKSPACE_ROUTES)
def test_an_api_key_gets_403_on_every_workspace_route(client, api_engine, method, suffix, body):
    team = make_team(client, api_engine)
    for scope in ("read", "write"):
        key = key_headers(api_engine, team.id, scope, team.owner)
        response = call(client, method, f"/workspaces/{team.id}{suffix}", key, body)
        assert response.status_code == 403, response.text
        assert error_of(response)["code"] == "forbidden"
        assert "API key" in error_of(response)["message"]
        # Another workspace is a 404 to a key, as to a stranger.
        other = call(client, method, f"/workspaces/{team.owner.personal_id}{suffix}", key, body)
        assert other.status_code == 404


def test_an_api_key_neither_lists_nor_creates_workspaces(client, api_engine):
    team = make_team(client, api_engine)
    key = key_headers(api_engine, team.id, "write", team.owner)
    assert client.get("/workspaces", headers=key).status_code == 403
    response = client.post("/workspaces", json={"name": "Keyed"}, headers=key)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_without_a_token_every_route_is_a_401(client):
    assert client.get("/workspaces").status_code == 401
    assert client.get("/workspaces/1/members").status_code == 401
    assert client.post("/invitations/accept", json={"token": "x"}).status_code == 401


def test_the_header_lets_an_editor_act_in_the_shared_workspace(client, api_engine):
    team = make_team(client, api_engine)
    created = create_schedule(client, team.editor.acting_in(team.id), name="shared ping")
    # The owner sees it in the team, the editor's personal workspace does not.
    team_names = [
        item["name"]
        for item in client.get("/schedules", headers=team.owner.acting_in(team.id)).json()["items"]
    ]
    assert team_names == ["shared ping"]
    assert client.get("/schedules", headers=team.editor.headers).json()["items"] == []
    assert client.get(f"/schedules/{created['id']}", headers=team.editor.headers).status_code == 404


def test_a_viewer_reads_the_shared_workspace_but_cannot_write(client, api_engine):
    team = make_team(client, api_engine)
    create_schedule(client, team.owner.acting_in(team.id))
    as_viewer = team.viewer.acting_in(team.id)
    assert len(client.get("/schedules", headers=as_viewer).json()["items"]) == 1
    response = client.post("/schedules", json=schedule_body(), headers=as_viewer)
    assert response.status_code == 403, response.text
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert "editor role" in error["message"]


def test_every_workspace_route_names_its_action():
    app = create_api()
    found = {}
    for route in app.router.routes:
        for context in getattr(route, "effective_route_contexts", lambda: [])():
            if "/workspaces" in context.path or "/invitations" in context.path:
                actions = [
                    getattr(dependency.call, "action", None)
                    for dependency in context.dependant.dependencies
                ]
                for method in context.methods:
                    found[(method, context.path)] = [a for a in actions if a is not None]
    assert len(found) == 13
    assert all(len(actions) == 1 for actions in found.values()), found
    assert found[("DELETE", "/api/v1/workspaces/{id}")] == ["own"]
    assert found[("POST", "/api/v1/workspaces/{id}/invitations")] == ["manage"]
    assert found[("POST", "/api/v1/invitations/accept")] == ["account"]
