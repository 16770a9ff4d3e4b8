"""/api-keys over real HTTP, on both databases: the key shown once, stored as a
hash, scopes, revocation and tenant isolation."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import httpx
from sqlmodel import Session, select

from hookboard.domain.passwords import hash_password
from hookboard.domain.tokens import hash_token, new_session_token
from hookboard.models import ApiKey, AuthSession, User, utcnow
from hookboard.services import crud

SEEDED_PASSWORD = "seeded-password"


@lru_cache(maxsize=1)
def _seeded_password_hash() -> str:
    return hash_password(SEEDED_PASSWORD)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seeded_user(engine, email: str = "alice@example.com") -> dict[str, str]:
    """Bearer headers of a user (password SEEDED_PASSWORD, a personal workspace, a
    live session) written straight to the database: no bcrypt on the server per test."""
    issued = new_session_token()
    with Session(engine) as session:
        user = User(email=email, password_hash=_seeded_password_hash())
        session.add(user)
        session.flush()
        crud.create_workspace(session, name="Personal", owner_id=user.id, personal=True)
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=issued.token_hash,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        session.commit()
    return bearer(issued.token)


def create_key(client: httpx.Client, headers, name="ci", scope="write") -> dict:
    response = client.post("/api-keys", json={"name": name, "scope": scope}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field), error
    return error


def test_a_key_is_shown_once_and_stored_as_a_hash(client, api_engine):
    headers = seeded_user(api_engine)
    response = client.post(
        "/api-keys", json={"name": " Déploiement 🔑 ", "scope": "write"}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert set(created) == {
        *("id", "name", "prefix", "scope", "role", "created_by"),
        *("created_at", "last_used_at", "key"),
    }
    assert created["name"] == "Déploiement 🔑"
    assert (created["scope"], created["role"]) == ("write", "editor")
    assert created["created_by"]["email"] == "alice@example.com"
    assert created["key"].startswith("hbk_")
    assert created["key"].startswith(created["prefix"]) and len(created["prefix"]) == 12
    assert created["last_used_at"] is None

    listed = client.get("/api-keys", headers=headers)
    assert created["key"] not in listed.text
    [item] = listed.json()["items"]
    assert item == {key: value for key, value in created.items() if key != "key"}

    with Session(api_engine) as session:
        row = session.exec(select(ApiKey)).one()
    assert row.key_hash == hash_token(created["key"])
    assert created["key"] not in str(row.model_dump())

    # The key works, and its use is recorded.
    assert client.get("/api-keys", headers=bearer(created["key"])).status_code == 200
    [item] = client.get("/api-keys", headers=headers).json()["items"]
    assert item["last_used_at"] is not None


def test_a_read_key_reads_but_never_writes(client, api_engine):
    headers = seeded_user(api_engine)
    read = bearer(create_key(client, headers, "dashboards", "read")["key"])
    other = create_key(client, headers, "other")
    assert client.get("/api-keys", headers=read).status_code == 200
    assert client.get("/signing-secret", headers=read).status_code == 200
    for response in (
        client.post("/api-keys", json={"name": "more", "scope": "write"}, headers=read),
        client.delete(f"/api-keys/{other['id']}", headers=read),
        client.post("/signing-secret/rotate", headers=read),
    ):
        assert_error(response, 403, "forbidden")
    assert len(client.get("/api-keys", headers=headers).json()["items"]) == 2


def test_no_key_manages_keys_not_even_a_write_key(client, api_engine):
    headers = seeded_user(api_engine)
    made = create_key(client, headers, "automation")
    write = bearer(made["key"])
    refused = client.post("/api-keys", json={"name": "more", "scope": "read"}, headers=write)
    assert_error(refused, 403, "forbidden")
    assert "API key cannot" in refused.json()["error"]["message"]
    assert_error(client.delete(f"/api-keys/{made['id']}", headers=write), 403, "forbidden")
    assert client.get("/api-keys", headers=write).status_code == 200  # it still works


def test_a_key_is_made_with_a_role_instead_of_a_scope(client, api_engine):
    headers = seeded_user(api_engine)
    response = client.post("/api-keys", json={"name": "ro", "role": "viewer"}, headers=headers)
    assert response.status_code == 201, response.text
    assert (response.json()["scope"], response.json()["role"]) == ("read", "viewer")
    both = {"name": "x", "role": "viewer", "scope": "write"}
    assert_error(
        client.post("/api-keys", json=both, headers=headers), 422, "validation_error", "scope"
    )


def test_a_revoked_key_gets_401(client, api_engine):
    headers = seeded_user(api_engine)
    created = create_key(client, headers)
    key_headers = bearer(created["key"])
    assert client.get("/api-keys", headers=key_headers).status_code == 200

    response = client.delete(f"/api-keys/{created['id']}", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    error = assert_error(client.get("/api-keys", headers=key_headers), 401, "unauthorized")
    assert error["message"] == "API key revoked"
    assert client.get("/api-keys", headers=headers).json() == {"items": []}
    assert_error(client.delete(f"/api-keys/{created['id']}", headers=headers), 404, "not_found")


def test_another_users_key_is_404_exactly_like_a_missing_one(client, api_engine):
    alice = seeded_user(api_engine, "alice@example.com")
    bob = seeded_user(api_engine, "bob@example.com")
    alices = create_key(client, alice)
    bob_key = bearer(create_key(client, bob)["key"])

    theirs = client.delete(f"/api-keys/{alices['id']}", headers=bob)
    missing = client.delete(f"/api-keys/{alices['id'] + 1000}", headers=bob)
    assert_error(theirs, 404, "not_found")
    assert theirs.json() == missing.json()
    # A key manages no key at all, so it learns nothing of Alice's either.
    by_key = client.delete(f"/api-keys/{alices['id']}", headers=bob_key)
    assert by_key.json() == client.delete("/api-keys/999999", headers=bob_key).json()
    # Alice's key is untouched, and neither user sees the other's keys.
    assert client.get("/api-keys", headers=bearer(alices["key"])).status_code == 200
    assert [k["name"] for k in client.get("/api-keys", headers=bob).json()["items"]] == ["ci"]
    assert [k["id"] for k in client.get("/api-keys", headers=alice).json()["items"]] == [
        alices["id"]
    ]


INVALID_BODIES = [
    ({"scope": "read"}, "name"),
    ({"name": "", "scope": "read"}, "name"),
    ({"name": "   ", "scope": "read"}, "name"),
    ({"name": "x" * 101, "scope": "read"}, "name"),
    ({"name": "x" * 1_000_000, "scope": "read"}, "name"),
    ({"name": "tab\there", "scope": "read"}, "name"),
    ({"name": "nul\x00", "scope": "read"}, "name"),
    ({"name": 42, "scope": "read"}, "name"),
    ({"name": None, "scope": "read"}, "name"),
    ({"name": "ci"}, "scope"),
    ({"name": "ci", "scope": "admin"}, "scope"),
    ({"name": "ci", "scope": "READ"}, "scope"),
    ({"name": "ci", "scope": None}, "scope"),
    ({"name": "ci", "scope": ["read"]}, "scope"),
    ({"name": "ci", "scope": "read", "key": "hbk_mine"}, "key"),
]


def test_invalid_input_is_422_naming_the_field(client, api_engine):
    headers = seeded_user(api_engine)
    for body, field in INVALID_BODIES:
        response = client.post("/api-keys", json=body, headers=headers)
        assert_error(response, 422, "validation_error", field)
    surrogate = rb'{"name": "key \ud83d", "scope": "read"}'
    response = client.post(
        "/api-keys", content=surrogate, headers={**headers, "Content-Type": "application/json"}
    )
    assert_error(response, 422, "validation_error", "name")
    for raw in (b"", b"{", b"[]", b"null", b'"ci"', b"\x00\x01"):
        response = client.post(
            "/api-keys", content=raw, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code in (400, 422), response.text
        assert set(response.json()["error"]) == {"code", "message", "field"}
    for bad_id in ("abc", "0", "-1", "1.5", str(2**63), str(10**40), "%F0%9F%94%91"):
        response = client.delete(f"/api-keys/{bad_id}", headers=headers)
        assert_error(response, 422, "validation_error", "id")
    assert_error(client.delete(f"/api-keys/{2**63 - 1}", headers=headers), 404, "not_found")
    assert client.get("/api-keys", headers=headers).json() == {"items": []}
