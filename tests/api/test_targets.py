"""/targets and /targets/test over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket

import pytest
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from hookboard.models import SigningSecret, Target
from tests.api.support import (
    assert_field_error,
    create_schedule,
    create_target,
    error_of,
    headers_for,
    new_user,
    strict_api,  # noqa: F401 - fixture
)
from tests.api.support import strict as strict  # fixture
from tests.support.receiver import Receiver

API_SETTINGS = {"MAX_WEBHOOK_BODY_BYTES": "1024"}


@pytest.fixture
def alice(api_engine):
    return headers_for(api_engine, "alice@example.com")


def test_create_read_list_edit_delete(client, alice):
    target = create_target(
        client,
        alice,
        name="billing",
        url="https://billing.example/hooks",
        method="put",
        headers={"Authorization": "Bearer t0ken", "Content-Type": "application/json"},
        body='{"event": "tick"}',
    )
    assert target["name"] == "billing"
    assert target["method"] == "PUT"
    assert target["headers"] == {"Authorization": "***", "Content-Type": "application/json"}
    assert target["schedule_count"] == 0 and target["schedules"] == []
    assert client.get(f"/targets/{target['id']}", headers=alice).json() == target

    defaults = create_target(client, alice, name="plain", url="https://plain.example")
    assert defaults["method"] == "POST" and defaults["headers"] == {} and defaults["body"] is None

    page = client.get("/targets", headers=alice).json()
    assert [item["id"] for item in page["items"]] == [target["id"], defaults["id"]]
    assert page["next_cursor"] is None
    first = client.get("/targets", params={"limit": 1}, headers=alice).json()
    assert [item["id"] for item in first["items"]] == [target["id"]]
    rest = client.get(
        "/targets", params={"limit": 1, "cursor": first["next_cursor"]}, headers=alice
    ).json()
    assert [item["id"] for item in rest["items"]] == [defaults["id"]]
    assert rest["next_cursor"] is None

    response = client.patch(
        f"/targets/{target['id']}",
        json={"url": "https://billing.example/v2", "headers": {"Authorization": "***"}},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["url"] == "https://billing.example/v2"
    assert edited["method"] == "PUT" and edited["body"] == '{"event": "tick"}'
    assert edited["headers"] == {"Authorization": "***"}

    assert client.delete(f"/targets/{target['id']}", headers=alice).status_code == 204
    assert client.get(f"/targets/{target['id']}", headers=alice).status_code == 404


def test_secret_headers_are_stored_as_given(client, alice, api_engine):
    target = create_target(client, alice, headers={"X-Hub-Secret": "shh"})
    client.patch(
        f"/targets/{target['id']}", json={"headers": {"X-Hub-Secret": "***"}}, headers=alice
    )
    with Session(api_engine) as session:
        assert session.get(Target, target["id"]).headers == {"X-Hub-Secret": "shh"}


def test_a_target_lists_the_schedules_using_it_and_cannot_be_deleted_meanwhile(client, alice):
    target = create_target(client, alice)
    users = [
        create_schedule(client, alice, name=f"nightly-{n}", request=None, target_id=target["id"])
        for n in range(2)
    ]
    listed = client.get("/targets", headers=alice).json()["items"][0]
    assert listed["schedule_count"] == 2
    assert listed["schedules"] == [{"id": s["id"], "name": s["name"]} for s in users]
    response = client.delete(f"/targets/{target['id']}", headers=alice)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "target_in_use"
    assert "'nightly-0'" in error["message"] and "'nightly-1'" in error["message"]
    assert str(users[0]["id"]) in error["message"]
    # Once no schedule uses it, it goes.
    client.delete(f"/schedules/{users[0]['id']}", headers=alice)
    client.patch(
        f"/schedules/{users[1]['id']}",
        json={"target_id": None, "request": {"url": "https://own.example"}},
        headers=alice,
    )
    assert client.delete(f"/targets/{target['id']}", headers=alice).status_code == 204


def test_names_are_unique_per_user(client, alice, api_engine):
    create_target(client, alice, name="dup")
    response = client.post(
        "/targets", json={"name": "dup", "url": "https://x.example"}, headers=alice
    )
    error = assert_field_error(response, "name", status=409)
    assert "dup" in error["message"]
    other = create_target(client, alice, name="other")
    response = client.patch(f"/targets/{other['id']}", json={"name": "dup"}, headers=alice)
    assert_field_error(response, "name", status=409)
    create_target(client, headers_for(api_engine, "bob@example.com"), name="dup")


BAD_TARGETS = [
    ({"url": "ftp://x.example"}, "url"),
    ({"url": ""}, "url"),
    ({"url": None}, "url"),
    ({"method": "CONNECT"}, "method"),
    ({"headers": {"X-A": "b\nc"}}, "headers"),
    ({"headers": {"": "b"}}, "headers"),
    ({"headers": {"X-A": "caf\u00e9"}}, "headers"),
    ({"body": "z" * 1025}, "body"),
    ({"name": " "}, "name"),
    ({"extra": 1}, "extra"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_TARGETS, ids=[f for _, f in BAD_TARGETS])
def test_validation(client, alice, changes, field):
    body = {"name": "t", "url": "https://t.example", **changes}
    assert_field_error(client.post("/targets", json=body, headers=alice), field)
    target = create_target(client, alice)
    assert_field_error(client.patch(f"/targets/{target['id']}", json=changes, headers=alice), field)


def test_private_addresses_are_refused(strict):
    client, headers = strict
    for url in (
        "http://127.1/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/",
        "http://localhost:9/hook",
        "http://x.localhost/",
    ):
        response = client.post("/targets", json={"name": "t", "url": url}, headers=headers)
        assert_field_error(response, "url")
        response = client.post("/targets/test", json={"request": {"url": url}}, headers=headers)
        assert_field_error(response, "request.url")


# --------------------------------------------------------------------------- test deliveries


def test_a_test_delivery_is_sent_signed_and_reported(client, api_engine):
    workspace_id, headers = new_user(api_engine, "frank@example.com")
    with Receiver(
        status=201, body=b"created!", headers={"Set-Cookie": "sid=1", "X-Reply": "yes"}
    ) as receiver:
        response = client.post(
            "/targets/test",
            json={
                "request": {
                    "url": receiver.url + "/hook?q=1",
                    "method": "PATCH",
                    "headers": {"Authorization": "Bearer abc", "Content-Type": "text/plain"},
                    "body": '{"hello": 1}',
                },
                "timeout_seconds": 5,
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        result = response.json()
        [request] = receiver.wait_for(1)
    assert result["status_code"] == 201
    assert result["error_class"] == "success" and result["error_message"] is None
    assert result["latency_ms"] > 0
    assert result["body_excerpt"] == "created!"
    assert result["response_headers"]["set-cookie"] == "***"
    assert result["response_headers"]["x-reply"] == "yes"
    assert (request.method, request.path, request.body) == ("PATCH", "/hook?q=1", b'{"hello": 1}')
    assert request.headers["authorization"] == "Bearer abc"
    assert request.headers["user-agent"].startswith("Hookboard/")
    with Session(api_engine) as session:
        secret = session.exec(
            select(SigningSecret).where(SigningSecret.workspace_id == workspace_id)
        ).one()
    Webhook(secret.secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"].startswith("test_")


def test_a_test_delivery_reports_failures(client, alice):
    with Receiver(status=503, body=b"down") as receiver:
        result = client.post(
            "/targets/test", json={"request": {"url": receiver.url}}, headers=alice
        ).json()
    assert (result["status_code"], result["error_class"]) == (503, "http_5xx")
    assert result["body_excerpt"] == "down"
    with Receiver(mode="hang") as receiver:
        result = client.post(
            "/targets/test",
            json={"request": {"url": receiver.url}, "timeout_seconds": 1},
            headers=alice,
        ).json()
    assert result["error_class"] == "timeout" and result["status_code"] is None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = client.post(
        "/targets/test",
        json={"request": {"url": f"http://127.0.0.1:{closed_port}/"}},
        headers=alice,
    ).json()
    assert result["error_class"] == "connect"


def test_a_test_delivery_validates_its_request(client, alice):
    for body, field in (
        ({"request": {"url": "mailto:x@example.com"}}, "request.url"),
        ({"request": {"url": "https://x.example", "method": "BREW"}}, "request.method"),
        ({"request": {"url": "https://x.example", "headers": {"A": "\r"}}}, "request.headers"),
        ({"request": {"url": "https://x.example", "body": "b" * 2000}}, "request.body"),
        ({"request": {"url": "https://x.example"}, "timeout_seconds": 0}, "timeout_seconds"),
        ({"request": {"url": "https://x.example"}, "timeout_seconds": 4000}, "timeout_seconds"),
        ({}, "request"),
    ):
        assert_field_error(client.post("/targets/test", json=body, headers=alice), field)
