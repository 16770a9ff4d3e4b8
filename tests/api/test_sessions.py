"""A user's login sessions over real HTTP, on both databases: listed with where
and when they were opened and used, revoked one by one or all but the current
one, and ended by a password change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from hookboard.models import AuthSession
from tests.api.support import now
from tests.api.test_api_keys import SEEDED_PASSWORD, seeded_user
from tests.api.test_auth import assert_error, bearer

EMAIL = "alice@example.com"
AGENT = "Mozilla/5.0 (hookboard-test)"


def login(client, user_agent: str = AGENT) -> dict[str, str]:
    response = client.post(
        "/auth/login",
        json={"email": EMAIL, "password": SEEDED_PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


def sessions(client, headers) -> list[dict]:
    response = client.get("/auth/sessions", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_list_shows_each_session_with_its_ip_and_user_agent(client, api_engine):
    seeded_user(api_engine, EMAIL)
    phone = login(client, "Phone/1.0")
    laptop = login(client)

    listed = sessions(client, laptop)
    assert len(listed) == 3  # the seeded one, the phone, the laptop
    newest, second = listed[0], listed[1]
    assert newest["current"] is True and not any(item["current"] for item in listed[1:])
    assert (newest["client_ip"], newest["user_agent"]) == ("127.0.0.1", AGENT)
    assert (second["client_ip"], second["user_agent"]) == ("127.0.0.1", "Phone/1.0")
    assert newest["last_used_at"] is not None  # this very request
    assert second["last_used_at"] is None  # the phone's token was never used
    assert {"id", "created_at", "expires_at"} <= set(newest)
    assert sessions(client, phone)[1]["current"] is True


def test_last_used_is_written_at_most_once_a_minute(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    sessions(client, headers)

    def last_used():
        with Session(api_engine) as session:
            return session.exec(select(AuthSession.last_used_at)).one()

    first = last_used()
    sessions(client, headers)
    assert last_used() == first
    with Session(api_engine) as session:
        long_ago = now() - timedelta(minutes=2)
        session.exec(update(AuthSession).values(last_used_at=long_ago))
        session.commit()
    sessions(client, headers)
    assert last_used() > first


def test_a_user_revokes_one_session_but_never_another_users(client, api_engine):
    seeded_user(api_engine, EMAIL)
    bob = seeded_user(api_engine, "bob@example.com")
    other, mine = login(client), login(client)
    [other_id] = [item["id"] for item in sessions(client, other) if item["current"]]

    assert_error(client.delete(f"/auth/sessions/{other_id}", headers=bob), 404, "not_found")
    assert client.delete(f"/auth/sessions/{other_id}", headers=mine).status_code == 204
    assert client.get("/auth/sessions", headers=other).status_code == 401
    assert other_id not in {item["id"] for item in sessions(client, mine)}
    again = client.delete(f"/auth/sessions/{other_id}", headers=mine)
    assert_error(again, 404, "not_found")


def test_a_user_revokes_every_session_but_the_current_one(client, api_engine):
    first = seeded_user(api_engine, EMAIL)
    second, mine = login(client), login(client)
    bob = seeded_user(api_engine, "bob@example.com")

    revoked = client.delete("/auth/sessions", headers=mine)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"revoked_sessions": 2}
    for gone in (first, second):
        assert client.get("/auth/sessions", headers=gone).status_code == 401
    assert [item["current"] for item in sessions(client, mine)] == [True]
    assert client.get("/auth/sessions", headers=bob).status_code == 200


def test_a_password_change_ends_every_other_session(client, api_engine):
    first = seeded_user(api_engine, EMAIL)
    mine = login(client)

    wrong = {"current_password": "not-it-at-all", "new_password": "a new password"}
    assert_error(
        client.post("/auth/password", json=wrong, headers=mine),
        422,
        "validation_error",
        "current_password",
    )
    right = {"current_password": SEEDED_PASSWORD, "new_password": "a new password"}
    changed = client.post("/auth/password", json=right, headers=mine)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked_sessions": 1}
    assert client.get("/auth/sessions", headers=first).status_code == 401
    assert len(sessions(client, mine)) == 1
    relogin = client.post("/auth/login", json={"email": EMAIL, "password": "a new password"})
    assert relogin.status_code == 200, relogin.text
