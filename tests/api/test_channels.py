"""/notification-channels: CRUD, validation and a real test alert (webhook and email)."""

from __future__ import annotations

import json

import pytest

from tests.api.support import assert_field_error, headers_for
from tests.support.receiver import Receiver
from tests.support.smtp import SmtpServer, free_port

SMTP_PORT = free_port()
API_SETTINGS = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(SMTP_PORT), "SMTP_TLS": "none"}
HOOK = {"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/alerts"}
EMAIL = {"name": "pager", "kind": "email", "email": "ops@example.com"}


@pytest.fixture
def auth(api_engine):
    return headers_for(api_engine, "alice@example.com")


def test_it_creates_lists_edits_and_deletes_channels(client, auth):
    hook = client.post("/notification-channels", json=HOOK, headers=auth)
    assert hook.status_code == 201, hook.text
    email = client.post("/notification-channels", json=EMAIL, headers=auth).json()
    body = hook.json()
    assert {k: body[k] for k in ("name", "kind", "url", "email", "enabled")} == {
        **HOOK,
        "url": "https://hooks.example.com/***",  # a webhook URL is a bearer secret
        "email": None,
        "enabled": True,
    }
    listed = client.get("/notification-channels", headers=auth).json()
    assert [c["id"] for c in listed["items"]] == [body["id"], email["id"]]

    edited = client.patch(
        f"/notification-channels/{body['id']}",
        json={"enabled": False, "url": "https://hooks.example.com/v2"},
        headers=auth,
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["enabled"], edited.json()["url"]) == (
        False,
        "https://hooks.example.com/***",
    )
    assert client.delete(f"/notification-channels/{body['id']}", headers=auth).status_code == 204
    assert client.get(f"/notification-channels/{body['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "sms"}, "kind"),
        ({"name": "x", "kind": "webhook"}, "url"),
        ({"name": "x", "kind": "webhook", "url": "ftp://x.example"}, "url"),
        ({**HOOK, "email": "ops@example.com"}, "email"),
        ({"name": "x", "kind": "email"}, "email"),
        ({**EMAIL, "email": "not an address"}, "email"),
        ({**EMAIL, "email": "a@b.example\r\nBcc: x@y.example"}, "email"),
        ({**EMAIL, "url": "https://x.example"}, "url"),
        ({**HOOK, "name": " "}, "name"),
        ({**HOOK, "colour": "red"}, "colour"),
    ],
)
def test_bad_channels_are_a_422_naming_the_field(client, auth, body, field):
    assert_field_error(client.post("/notification-channels", json=body, headers=auth), field)


def test_the_kind_is_fixed_and_given_fields_are_not_null(client, auth):
    channel = client.post("/notification-channels", json=HOOK, headers=auth).json()
    path = f"/notification-channels/{channel['id']}"
    assert_field_error(client.patch(path, json={"kind": "email"}, headers=auth), "kind")
    assert_field_error(client.patch(path, json={"enabled": None}, headers=auth), "enabled")
    assert_field_error(client.patch(path, json={"email": "a@b.example"}, headers=auth), "email")


def test_a_test_alert_reaches_a_webhook_signed(client, auth):
    with Receiver() as receiver:
        channel = client.post(
            "/notification-channels", json={**HOOK, "url": receiver.url + "/slack"}, headers=auth
        ).json()
        result = client.post(f"/notification-channels/{channel['id']}/test", headers=auth)
        [request] = receiver.wait_for(1)
    assert result.json() == {"ok": True, "error": None}
    payload = json.loads(request.body)
    assert payload["text"] == "This is a test alert from Hookboard to the channel “ops”."
    assert payload["hookboard"]["event"] == "test"
    assert request.headers["webhook-id"].startswith("test_")
    assert request.headers["webhook-signature"].startswith("v1,")


def test_a_failing_test_alert_says_why(client, auth):
    with Receiver(status=410) as receiver:
        channel = client.post(
            "/notification-channels", json={**HOOK, "url": receiver.url}, headers=auth
        ).json()
        result = client.post(f"/notification-channels/{channel['id']}/test", headers=auth)
    assert result.json() == {"ok": False, "error": "http_4xx (HTTP 410)"}


def test_a_test_alert_reaches_an_email_address(client, auth):
    with SmtpServer(port=SMTP_PORT) as smtp:
        channel = client.post("/notification-channels", json=EMAIL, headers=auth).json()
        result = client.post(f"/notification-channels/{channel['id']}/test", headers=auth)
        [message] = smtp.wait_for(1)
    assert result.json() == {"ok": True, "error": None}
    assert message["Subject"] == "[Hookboard] Test alert"
    assert message["To"] == "ops@example.com"
    assert smtp.recipients == [["ops@example.com"]]


def test_an_unreachable_smtp_server_is_reported_not_a_500(client, auth):
    channel = client.post("/notification-channels", json=EMAIL, headers=auth).json()
    result = client.post(f"/notification-channels/{channel['id']}/test", headers=auth)
    assert result.status_code == 200
    assert result.json()["ok"] is False
    assert result.json()["error"].startswith("SMTP: ConnectionRefusedError")


def test_there_is_a_quota(client, auth):
    for number in range(20):
        response = client.post(
            "/notification-channels", json={**HOOK, "name": f"c{number}"}, headers=auth
        )
        assert response.status_code == 201
    extra = client.post("/notification-channels", json=HOOK, headers=auth)
    assert extra.status_code == 409 and extra.json()["error"]["code"] == "quota_exceeded"
