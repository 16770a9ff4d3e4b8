"""DELETE /api/v1/account over real HTTP, on both databases: the password is
needed, the account stops at once, and its data (and only its) is deleted."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from hookboard.models import ApiKey, Attempt, AuthSession, Run, Schedule, User
from tests.api.conftest import signup
from tests.api.support import add_run, api_key_headers, create_schedule, error_of

PASSWORD = "s3cret-pass"


def _user_id(engine, email: str) -> int | None:
    with Session(engine) as session:
        return session.execute(select(User.id).where(User.email == email)).scalar()


def _rows(engine, model, user_id: int) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(model).where(model.user_id == user_id)
        return session.execute(query).scalar_one()


def _with_history(client, engine, email: str) -> tuple[int, dict[str, str]]:
    auth = signup(client, email, PASSWORD)
    user_id = _user_id(engine, email)
    schedule = create_schedule(client, auth)
    for status in ("succeeded", "failed", "pending", "retrying"):
        add_run(engine, user_id=user_id, schedule_id=schedule["id"], status=status, attempts=2)
    return user_id, auth


def test_it_deletes_the_account_and_all_its_data_but_no_one_elses(client, api_engine):
    user_id, auth = _with_history(client, api_engine, "gone@example.com")
    other_id, other_auth = _with_history(client, api_engine, "stays@example.com")

    response = client.request("DELETE", "/account", json={"password": PASSWORD}, headers=auth)

    assert response.status_code == 200, response.text
    assert response.json()["data_deleted"] is True
    assert _user_id(api_engine, "gone@example.com") is None
    for model in (Schedule, Run, Attempt, AuthSession, ApiKey):
        assert _rows(api_engine, model, user_id) == 0, model.__name__
    assert _rows(api_engine, Run, other_id) == 4 and _rows(api_engine, Attempt, other_id) == 8
    assert client.get("/schedules", headers=auth).status_code == 401
    assert client.get("/schedules", headers=other_auth).status_code == 200
    login = client.post("/auth/login", json={"email": "gone@example.com", "password": PASSWORD})
    assert login.status_code == 401
    signup(client, "gone@example.com", PASSWORD)  # the email is free again


def test_a_wrong_password_deletes_nothing_and_counts_as_a_failed_login(client, api_engine):
    user_id, auth = _with_history(client, api_engine, "kept@example.com")

    response = client.request("DELETE", "/account", json={"password": "wrong-one"}, headers=auth)

    assert response.status_code == 403
    assert error_of(response)["field"] == "password"
    assert _rows(api_engine, Run, user_id) == 4
    assert client.get("/schedules", headers=auth).status_code == 200
    for _ in range(20):  # the failed-login limit for the email is reached
        response = client.request("DELETE", "/account", json={"password": "x"}, headers=auth)
        if response.status_code == 429:
            break
    assert response.status_code == 429
    assert _rows(api_engine, Run, user_id) == 4


def test_an_api_key_cannot_delete_the_account(client, api_engine):
    user_id, _ = _with_history(client, api_engine, "keyed@example.com")
    key = api_key_headers(api_engine, user_id, "write")

    response = client.request("DELETE", "/account", json={"password": PASSWORD}, headers=key)

    assert response.status_code == 403
    assert error_of(response)["code"] == "session_required"
    assert _user_id(api_engine, "keyed@example.com") == user_id
