"""Secrets inside URLs over real HTTP, on both databases: a URL's userinfo and
secret-looking query values, and a channel's whole webhook path, are masked in
every answer (read keys included) and in the delivery log; an edit that sends
the mask back keeps the stored secret; a write-scoped full export has them."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from hookboard.models import Attempt, NotificationChannel, Schedule, Target
from tests.api.support import (
    API_QUEUE,
    api_key_headers,
    assert_field_error,
    create_schedule,
    create_target,
    new_user,
)
from tests.support.engine import EngineProcesses, wait_until
from tests.support.receiver import Receiver

SECRET_URL = "https://bot:pa55word@hooks.example.com/in?api_key=s3cr3t&page=2&Token=t0k3n"
SHOWN_URL = "https://bot:***@hooks.example.com/in?api_key=***&page=2&Token=***"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"


@pytest.fixture
def alice(api_engine):
    return new_user(api_engine, "alice@example.com")


def stored(api_engine, model, row_id) -> str:
    with Session(api_engine) as session:
        return session.get(model, row_id).url


def assert_hidden(response, *secrets):
    assert response.status_code == 200, response.text
    for secret in secrets:
        assert secret not in response.text


def test_it_masks_url_secrets_of_schedules_for_every_caller(client, api_engine, alice):
    workspace_id, auth = alice
    schedule = create_schedule(client, auth, request={"url": SECRET_URL})
    assert schedule["request"]["url"] == SHOWN_URL
    read = api_key_headers(api_engine, workspace_id, "read")
    for headers in (auth, read):
        for path in (f"/schedules/{schedule['id']}", "/schedules"):
            assert_hidden(client.get(path, headers=headers), "pa55word", "s3cr3t", "t0k3n")
    assert stored(api_engine, Schedule, schedule["id"]) == SECRET_URL


def test_an_edit_round_trip_keeps_the_stored_url_secrets(client, api_engine, alice):
    _, auth = alice
    schedule = create_schedule(client, auth, request={"url": SECRET_URL})
    path = f"/schedules/{schedule['id']}"
    shown = client.get(path, headers=auth).json()
    response = client.patch(path, json={"request": shown["request"]}, headers=auth)
    assert response.status_code == 200, response.text
    assert stored(api_engine, Schedule, schedule["id"]) == SECRET_URL
    # Another part of the URL edited, the masks left as shown: the secrets stay.
    edited = SHOWN_URL.replace("page=2", "page=3")
    response = client.patch(path, json={"request": {"url": edited}}, headers=auth)
    assert response.status_code == 200, response.text
    assert stored(api_engine, Schedule, schedule["id"]) == SECRET_URL.replace("page=2", "page=3")


def test_it_refuses_a_masked_url_with_no_secret_behind_it(client, api_engine, alice):
    _, auth = alice
    body = {"request": {"url": "https://hooks.example.com/in?token=***"}}
    response = client.post("/schedules", json={**create_body(), **body}, headers=auth)
    assert_field_error(response, "request.url")
    schedule = create_schedule(client, auth, request={"url": SECRET_URL})
    # The stored secret never follows an edit to another host.
    elsewhere = SHOWN_URL.replace("hooks.example.com", "attacker.example.net")
    response = client.patch(
        f"/schedules/{schedule['id']}", json={"request": {"url": elsewhere}}, headers=auth
    )
    assert_field_error(response, "request.url")
    assert stored(api_engine, Schedule, schedule["id"]) == SECRET_URL


def create_body() -> dict:
    return {"name": "ping", "kind": "interval", "every": 1, "unit": "hours"}


def test_target_urls_are_masked_and_kept_the_same_way(client, api_engine, alice):
    _, auth = alice
    target = create_target(client, auth, url=SECRET_URL)
    assert target["url"] == SHOWN_URL
    response = client.patch(f"/targets/{target['id']}", json={"url": SHOWN_URL}, headers=auth)
    assert response.status_code == 200, response.text
    assert stored(api_engine, Target, target["id"]) == SECRET_URL


def test_channel_webhook_urls_show_only_their_host(client, api_engine, alice):
    workspace_id, auth = alice
    body = {"name": "ops", "kind": "webhook", "url": SLACK_URL}
    channel = client.post("/notification-channels", json=body, headers=auth).json()
    assert channel["url"] == "https://hooks.slack.com/***"
    read = api_key_headers(api_engine, workspace_id, "read")
    for headers in (auth, read):
        for path in (f"/notification-channels/{channel['id']}", "/notification-channels"):
            assert_hidden(client.get(path, headers=headers), "XXXXXXXX", "T000")
    path = f"/notification-channels/{channel['id']}"
    response = client.patch(path, json={"url": channel["url"], "name": "ops 2"}, headers=auth)
    assert response.status_code == 200, response.text
    assert stored(api_engine, NotificationChannel, channel["id"]) == SLACK_URL
    response = client.patch(path, json={"url": "https://hooks.slack.com/T/***"}, headers=auth)
    assert_field_error(response, "url")


def test_exports_mask_url_secrets_unless_a_full_export_is_asked(client, api_engine, alice):
    workspace_id, auth = alice
    create_target(client, auth, url=SECRET_URL)
    create_schedule(client, auth, request={"url": SECRET_URL})
    read = api_key_headers(api_engine, workspace_id, "read")
    masked = client.get("/schedules/export", headers=read)
    assert_hidden(masked, "pa55word", "s3cr3t", "t0k3n")
    document = masked.json()
    assert document["targets"][0]["url"] == document["schedules"][0]["request"]["url"]
    assert document["targets"][0]["url"] == SHOWN_URL
    full = client.get("/schedules/export", params={"include_secrets": "true"}, headers=auth)
    assert full.json()["schedules"][0]["request"]["url"] == SECRET_URL
    # The masked document imports back onto the account unchanged.
    report = client.post("/schedules/import", json=document, headers=auth).json()
    assert {item["action"] for item in report["items"]} == {"unchanged"}


def test_the_delivery_log_stores_and_shows_url_secrets_masked(
    client, api_server, api_engine, redis_url, alice
):
    _, auth = alice
    with Receiver() as receiver, EngineProcesses(api_server[1], redis_url) as processes:
        url = receiver.url + "/hook?token=s3cr3t&n=1"
        schedule = create_schedule(client, auth, paused=True, request={"url": url})
        processes.worker(QUEUE_NAME=API_QUEUE)
        response = client.post(f"/schedules/{schedule['id']}/trigger", headers=auth)
        run_id = response.json()["run_id"]
        [request] = receiver.wait_for(1)
        assert "token=s3cr3t" in request.path

        def recorded() -> Attempt | None:
            with Session(api_engine) as session:
                return session.exec(select(Attempt).where(Attempt.run_id == run_id)).first()

        wait_until(lambda: recorded() is not None, timeout=60, interval=0.2)
        assert recorded().request_url == receiver.url + "/hook?token=***&n=1"
    run = client.get(f"/runs/{run_id}", headers=auth)
    assert_hidden(run, "s3cr3t")
