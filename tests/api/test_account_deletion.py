"""DELETE /api/v1/account over real HTTP, on both databases: the password is
needed, the account stops at once, and its data (and only its) is deleted."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from hookboard.models import ApiKey, Attempt, Membership, Run, Schedule, User, Workspace
from hookboard.services import crud
from tests.api.conftest import signup
from tests.api.support import add_run, api_key_headers, create_schedule, error_of

PASSWORD = "s3cret-pass"


def _user_id(engine, email: str) -> int | None:
    with Session(engine) as session:
        return session.execute(select(User.id).where(User.email == email)).scalar()


def _rows(engine, model, workspace_id: int) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        return session.execute(query).scalar_one()


def _with_history(client, engine, email: str) -> tuple[int, dict[str, str]]:
    """(personal workspace id, session headers) of a new account with runs."""
    auth = signup(client, email, PASSWORD)
    with Session(engine) as session:
        workspace_id = crud.personal_workspace_id(session, _user_id(engine, email))
    schedule = create_schedule(client, auth)
    for status in ("succeeded", "failed", "pending", "retrying"):
        add_run(
            engine, workspace_id=workspace_id, schedule_id=schedule["id"], status=status, attempts=2
        )
    return workspace_id, auth


def test_it_deletes_the_account_and_all_its_data_but_no_one_elses(client, api_engine):
    workspace_id, auth = _with_history(client, api_engine, "gone@example.com")
    other_id, other_auth = _with_history(client, api_engine, "stays@example.com")

    response = client.request("DELETE", "/account", json={"password": PASSWORD}, headers=auth)

    assert response.status_code == 200, response.text
    assert response.json()["data_deleted"] is True
    assert _user_id(api_engine, "gone@example.com") is None
    for model in (Schedule, Run, Attempt, ApiKey):
        assert _rows(api_engine, model, workspace_id) == 0, model.__name__
    with Session(api_engine) as session:
        assert session.get(Workspace, workspace_id) is None
    assert _rows(api_engine, Run, other_id) == 4 and _rows(api_engine, Attempt, other_id) == 8
    assert client.get("/schedules", headers=auth).status_code == 401
    assert client.get("/schedules", headers=other_auth).status_code == 200
    login = client.post("/auth/login", json={"email": "gone@example.com", "password": PASSWORD})
    assert login.status_code == 401
    signup(client, "gone@example.com", PASSWORD)  # the email is free again


def test_a_wrong_password_deletes_nothing_and_counts_as_a_failed_login(client, api_engine):
    workspace_id, auth = _with_history(client, api_engine, "kept@example.com")

    response = client.request("DELETE", "/account", json={"password": "wrong-one"}, headers=auth)

    assert response.status_code == 403
    assert error_of(response)["field"] == "password"
    assert _rows(api_engine, Run, workspace_id) == 4
    assert client.get("/schedules", headers=auth).status_code == 200
    for _ in range(20):  # the failed-login limit for the email is reached
        response = client.request("DELETE", "/account", json={"password": "x"}, headers=auth)
        if response.status_code == 429:
            break
    assert response.status_code == 429
    assert _rows(api_engine, Run, workspace_id) == 4


def test_an_api_key_cannot_delete_the_account(client, api_engine):
    workspace_id, _ = _with_history(client, api_engine, "keyed@example.com")
    key = api_key_headers(api_engine, workspace_id, "write")

    response = client.request("DELETE", "/account", json={"password": PASSWORD}, headers=key)

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert _user_id(api_engine, "keyed@example.com") is not None


def test_the_last_owner_of_a_shared_workspace_cannot_leave_it_behind(client, api_engine):
    _, auth = _with_history(client, api_engine, "founder@example.com")
    signup(client, "teammate@example.com", PASSWORD)
    founder = _user_id(api_engine, "founder@example.com")
    mate = _user_id(api_engine, "teammate@example.com")
    with Session(api_engine) as session:
        team = crud.create_workspace(session, name="Team", owner_id=founder)
        session.add(Membership(workspace_id=team.id, user_id=mate, role="editor"))
        session.commit()
        team_id = team.id

    response = client.request("DELETE", "/account", json={"password": PASSWORD}, headers=auth)

    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "last_owner"
    assert "Team" in error_of(response)["message"]
    assert _user_id(api_engine, "founder@example.com") == founder
    with Session(api_engine) as session:
        assert session.get(Workspace, team_id).deleted_at is None
