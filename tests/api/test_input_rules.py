"""Issue 18's input rules over real HTTP, on both databases: names without
control or bidi characters, one account per lookalike email, no weak
passwords, no "***" stored as a secret, no key wider than its maker."""

from __future__ import annotations

import pytest

from tests.api.support import api_key_headers, assert_field_error, new_user, schedule_body
from tests.api.test_api_keys import SEEDED_PASSWORD, seeded_user
from tests.api.test_auth import assert_error, login

DISGUISED = "\u202egnp.exe"  # shows as "exe.png"


def fullwidth(text: str) -> str:
    """ASCII letters as their fullwidth lookalikes ("bob" -> "\uff42\uff4f\uff42")."""
    return "".join(chr(ord(char) + 0xFEE0) if char.isalpha() else char for char in text)


@pytest.fixture
def alice(api_engine):
    return new_user(api_engine, "alice@example.com")


def test_it_refuses_control_and_bidi_characters_in_every_name(client, alice):
    _, auth = alice
    for bad in (DISGUISED, "two\nlines", "iso\u2066late\u2069"):
        assert_field_error(
            client.post("/schedules", json=schedule_body(name=bad), headers=auth), "name"
        )
        body = {"name": bad, "url": "https://hooks.example.com/a"}
        assert_field_error(client.post("/targets", json=body, headers=auth), "name")
        body = {"name": bad, "kind": "webhook", "url": "https://hooks.example.com/c"}
        assert_field_error(client.post("/notification-channels", json=body, headers=auth), "name")
        body = {"name": bad, "scope": "read"}
        assert_field_error(client.post("/api-keys", json=body, headers=auth), "name")
    schedule = client.post("/schedules", json=schedule_body(), headers=auth).json()
    response = client.patch(f"/schedules/{schedule['id']}", json={"name": DISGUISED}, headers=auth)
    assert_field_error(response, "name")


def test_lookalike_emails_are_one_account(client):
    assert (
        client.post(
            "/auth/signup", json={"email": "bob@example.com", "password": "s3cret-pass"}
        ).status_code
        == 201
    )
    for lookalike in (
        fullwidth("bob") + "@example.com",
        "bob@EXAMPLE.COM",
        "Bob@" + fullwidth("example.com"),
    ):
        response = client.post("/auth/signup", json={"email": lookalike, "password": "s3cret-pass"})
        assert_error(response, 409, "email_taken", "email")
        assert login(client, lookalike, "s3cret-pass").status_code == 200
    for invisible in ("bob\u200b@example.com", "b\u00adob@example.com", "bob@exa\u2060mple.com"):
        response = client.post("/auth/signup", json={"email": invisible, "password": "s3cret-pass"})
        assert_error(response, 422, "validation_error", "email")


def test_an_account_stored_before_nfkc_folding_still_logs_in(client, api_engine):
    legacy = fullwidth("carol") + "@example.com"
    seeded_user(api_engine, legacy)  # stored as the rule before NFKC left it
    assert login(client, legacy, SEEDED_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "password", ["        ", "12345678", "Password1!", "aaaaaaaaaa", "qwertyuiop"]
)
def test_it_refuses_weak_passwords(client, password):
    response = client.post("/auth/signup", json={"email": "weak@example.com", "password": password})
    assert_error(response, 422, "validation_error", "password")


def test_it_refuses_a_masked_header_with_no_secret_behind_it(client, alice):
    _, auth = alice
    masked = {"Authorization": "***"}
    body = schedule_body(request={"url": "https://hooks.example.com/p", "headers": masked})
    assert_field_error(client.post("/schedules", json=body, headers=auth), "request.headers")
    body = {"name": "t", "url": "https://hooks.example.com/t", "headers": masked}
    assert_field_error(client.post("/targets", json=body, headers=auth), "headers")
    # An edit may send "***" back for a stored secret, not for a new header.
    target = client.post(
        "/targets", json={**body, "headers": {"Authorization": "real"}}, headers=auth
    )
    target_id = target.json()["id"]
    kept = client.patch(f"/targets/{target_id}", json={"headers": masked}, headers=auth)
    assert kept.status_code == 200, kept.text
    added = {"Authorization": "***", "X-Api-Key": "***"}
    response = client.patch(f"/targets/{target_id}", json={"headers": added}, headers=auth)
    assert_field_error(response, "headers")


def test_a_key_never_mints_a_key(client, api_engine, alice):
    workspace_id, _ = alice
    for scope in ("read", "write"):
        key = api_key_headers(api_engine, workspace_id, scope)
        response = client.post("/api-keys", json={"name": "more", "scope": "read"}, headers=key)
        assert_error(response, 403, "forbidden")
