"""/signing-secret over real HTTP, on both databases: the current secret, its
rotation, and the grace period in which the old one still signs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session, select

from hookboard.core.secrets import live_secrets_by_workspace
from hookboard.domain.signing import secret_key
from hookboard.models import SigningSecret, User
from hookboard.services import crud
from tests.api.test_api_keys import bearer, create_key, seeded_user

GRACE_SECONDS = 1.2
API_SETTINGS = {"SIGNING_SECRET_GRACE_HOURS": str(GRACE_SECONDS / 3600)}


def secrets_of(client: httpx.Client, headers) -> dict:
    response = client.get("/signing-secret", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def active_secrets(engine, email: str) -> list[str]:
    """What the engine signs with for the user's personal workspace."""
    with Session(engine) as session:
        user_id = session.exec(select(User.id).where(User.email == email)).one()
        workspace_id = crud.personal_workspace_id(session, user_id)
        found = live_secrets_by_workspace(session.connection(), {workspace_id}, datetime.now(UTC))
    return found.get(workspace_id, [])


def test_get_returns_the_current_secret_in_full(client, api_engine):
    headers = seeded_user(api_engine)
    body = secrets_of(client, headers)
    assert set(body) == {"secret", "secret_prefix", "created_at", "previous"}
    assert body["secret"].startswith("whsec_")
    assert body["secret"].startswith(body["secret_prefix"])
    assert len(secret_key(body["secret"])) == 32
    assert body["previous"] == []
    assert secrets_of(client, headers) == body
    assert active_secrets(api_engine, "alice@example.com") == [body["secret"]]


def test_rotation_keeps_the_old_secret_signing_during_the_grace_period(client, api_engine):
    headers = seeded_user(api_engine)
    old = secrets_of(client, headers)["secret"]
    before = datetime.now(UTC)
    response = client.post("/signing-secret/rotate", headers=headers)
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert set(rotated) == {"secret", "secret_prefix", "created_at", "previous"}
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != old
    # The old secret is shown only by its prefix, with its expiry.
    assert old not in response.text
    [previous] = rotated["previous"]
    assert set(previous) == {"secret_prefix", "expires_at"}
    assert old.startswith(previous["secret_prefix"]) and len(previous["secret_prefix"]) < 12
    expires_at = datetime.fromisoformat(previous["expires_at"])
    grace = timedelta(seconds=GRACE_SECONDS)
    assert (
        before + grace - timedelta(seconds=5) < expires_at < before + grace + timedelta(seconds=5)
    )
    # The engine signs with both, newest first, until the old one expires.
    assert active_secrets(api_engine, "alice@example.com") == [rotated["secret"], old]

    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
    after = secrets_of(client, headers)
    assert after["secret"] == rotated["secret"]
    assert after["previous"] == []
    assert active_secrets(api_engine, "alice@example.com") == [rotated["secret"]]


def test_rotating_twice_leaves_two_previous_secrets(client, api_engine):
    headers = seeded_user(api_engine)
    first = secrets_of(client, headers)["secret"]
    second = client.post("/signing-secret/rotate", headers=headers).json()["secret"]
    third = client.post("/signing-secret/rotate", headers=headers).json()
    assert [p["secret_prefix"] for p in third["previous"]] == [second[:10], first[:10]]
    with Session(api_engine) as session:
        rows = session.exec(select(SigningSecret).order_by(SigningSecret.id)).all()
    assert [row.expires_at is None for row in rows] == [False, False, True]


def test_secrets_are_per_workspace(client, api_engine):
    alice = seeded_user(api_engine, "alice@example.com")
    bob = seeded_user(api_engine, "bob@example.com")
    alices = secrets_of(client, alice)["secret"]
    assert secrets_of(client, bob)["secret"] != alices
    assert client.post("/signing-secret/rotate", headers=bob).status_code == 200
    assert secrets_of(client, alice) == {
        **secrets_of(client, alice),
        "secret": alices,
        "previous": [],
    }


def test_no_key_rotates_it_and_keys_see_only_the_prefix(client, api_engine):
    headers = seeded_user(api_engine)
    write = bearer(create_key(client, headers, "w", "write")["key"])
    read = bearer(create_key(client, headers, "r", "read")["key"])
    for key in (write, read):
        assert client.post("/signing-secret/rotate", headers=key).status_code == 403
        seen = secrets_of(client, key)
        assert seen["secret"] is None
        assert seen == {**secrets_of(client, headers), "secret": None}


def test_it_shows_a_read_key_only_the_prefix_and_dates(client, api_engine):
    # The secret signs webhooks to every receiver: whoever reads it can forge them.
    headers = seeded_user(api_engine)
    client.post("/signing-secret/rotate", headers=headers)
    full = secrets_of(client, headers)
    read = bearer(create_key(client, headers, "r", "read")["key"])
    response = client.get("/signing-secret", headers=read)
    assert response.status_code == 200, response.text
    assert response.json() == {**full, "secret": None}
    assert full["secret"] not in response.text
    assert full["secret_prefix"] and full["secret"].startswith(full["secret_prefix"])


def test_without_a_token_it_is_401(client):
    assert client.get("/signing-secret").status_code == 401
    assert client.post("/signing-secret/rotate").status_code == 401
