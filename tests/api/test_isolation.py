"""Tenant isolation: another user's schedule, target or run answers exactly as a
missing one, on every route and verb; credentials and scopes on every route."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session

from hookboard.models import NotificationChannel, Run, Schedule, Target
from tests.api.support import (
    add_run,
    api_key_headers,
    create_schedule,
    create_target,
    new_user,
    queue_length,
    schedule_body,
)

MISSING = 9_000_000_000
# Port 9 (discard) is closed: a test alert fails fast, without any DNS lookup.
CHANNEL = {"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/alerts"}


@dataclass
class Owned:
    workspace_id: int
    headers: dict
    schedule: dict
    target: dict
    run_id: int
    failed_run_id: int
    channel_id: int


@pytest.fixture
def owner(client, api_engine) -> Owned:
    workspace_id, headers = new_user(api_engine, "owner@example.com")
    target = create_target(client, headers)
    schedule = create_schedule(client, headers, target_id=target["id"], request=None)
    unused_target = create_target(client, headers, name="unused")
    run_id = add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule["id"], attempts=1)
    failed = add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule["id"],
        status="failed",
        attempts=1,
    )
    channel = client.post("/notification-channels", json=CHANNEL, headers=headers)
    assert channel.status_code == 201, channel.text
    return Owned(
        workspace_id, headers, schedule, unused_target, run_id, failed, channel.json()["id"]
    )


@pytest.fixture
def intruder(api_engine) -> dict:
    return new_user(api_engine, "intruder@example.com")[1]


# (method, path template, JSON body); {schedule}, {target}, {run}, {failed} are ids.
ROUTES_WITH_IDS = [
    ("GET", "/schedules/{schedule}", None),
    ("PATCH", "/schedules/{schedule}", {"name": "mine now"}),
    ("PATCH", "/schedules/{schedule}", {"every": 5, "unit": "minutes"}),
    ("DELETE", "/schedules/{schedule}", None),
    ("POST", "/schedules/{schedule}/pause", None),
    ("POST", "/schedules/{schedule}/resume", None),
    ("POST", "/schedules/{schedule}/trigger", None),
    ("GET", "/schedules/{schedule}/stats", None),
    ("GET", "/schedules/{schedule}/stats?window=7d", None),
    ("GET", "/targets/{target}", None),
    ("PATCH", "/targets/{target}", {"url": "https://evil.example"}),
    ("DELETE", "/targets/{target}", None),
    ("GET", "/runs/{run}", None),
    ("POST", "/runs/{failed}/replay", None),
    ("GET", "/notification-channels/{channel}", None),
    ("PATCH", "/notification-channels/{channel}", {"name": "mine now"}),
    ("PATCH", "/notification-channels/{channel}", {"enabled": False}),
    ("POST", "/notification-channels/{channel}/test", None),
    ("DELETE", "/notification-channels/{channel}", None),
]


def _path(template: str, owned: Owned | None) -> str:
    if owned is None:
        ids = dict(schedule=MISSING, target=MISSING, run=MISSING, failed=MISSING, channel=MISSING)
    else:
        ids = dict(
            schedule=owned.schedule["id"],
            target=owned.target["id"],
            run=owned.run_id,
            failed=owned.failed_run_id,
            channel=owned.channel_id,
        )
    return template.format(**ids)


def _snapshot(api_engine, owned: Owned):
    with Session(api_engine) as session:
        schedule = session.get(Schedule, owned.schedule["id"])
        target = session.get(Target, owned.target["id"])
        runs = [session.get(Run, owned.run_id), session.get(Run, owned.failed_run_id)]
        channel = session.get(NotificationChannel, owned.channel_id)
        return (
            schedule.model_dump(),
            target.model_dump(),
            [run.model_dump() for run in runs],
            channel.model_dump(),
        )


@pytest.mark.parametrize(("method", "template", "body"), ROUTES_WITH_IDS)
def test_another_users_row_is_not_found_like_a_missing_one(
    client, api_engine, redis_url, owner, intruder, method, template, body
):
    before = _snapshot(api_engine, owner)
    theirs = client.request(method, _path(template, owner), json=body, headers=intruder)
    missing = client.request(method, _path(template, None), json=body, headers=intruder)
    assert theirs.status_code == missing.status_code == 404, theirs.text
    assert theirs.json() == missing.json()
    assert theirs.json()["error"]["code"] == "not_found"
    # Nothing of the owner's changed, nothing was queued.
    assert _snapshot(api_engine, owner) == before
    assert queue_length(redis_url) == 0
    # The owner is answered.
    mine = client.request(method, _path(template, owner), json=body, headers=owner.headers)
    assert mine.status_code < 300, mine.text


def test_lists_show_only_ones_own_rows(client, owner, intruder):
    for path in ("/schedules", "/targets", "/runs", "/notification-channels"):
        assert client.get(path, headers=intruder).json() == {"items": [], "next_cursor": None}
        assert client.get(path, headers=owner.headers).json()["items"]
    response = client.get(
        "/runs", params={"schedule_id": owner.schedule["id"]}, headers=intruder
    ).json()
    assert response == {"items": [], "next_cursor": None}
    # The owner's cursor does not open the owner's rows to someone else.
    cursor = client.get("/runs", params={"limit": 1}, headers=owner.headers).json()["next_cursor"]
    assert client.get("/runs", params={"cursor": cursor}, headers=intruder).json()["items"] == []


def test_another_users_target_cannot_be_used(client, owner, intruder):
    theirs = client.post(
        "/schedules",
        json=schedule_body(request=None, target_id=owner.target["id"]),
        headers=intruder,
    )
    missing = client.post(
        "/schedules", json=schedule_body(request=None, target_id=MISSING), headers=intruder
    )
    assert theirs.status_code == missing.status_code == 422
    assert theirs.json()["error"]["field"] == missing.json()["error"]["field"] == "target_id"
    assert theirs.json()["error"]["message"].replace(
        str(owner.target["id"]), "?"
    ) == missing.json()["error"]["message"].replace(str(MISSING), "?")
    mine = create_schedule(client, intruder)
    response = client.patch(
        f"/schedules/{mine['id']}", json={"target_id": owner.target["id"]}, headers=intruder
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "target_id"


def test_a_target_only_counts_its_own_users_schedules(client, owner, intruder):
    target = client.get(f"/targets/{owner.schedule['target_id']}", headers=owner.headers).json()
    assert target["schedules"] == [{"id": owner.schedule["id"], "name": owner.schedule["name"]}]


# --------------------------------------------------------------------------- credentials

EVERY_ROUTE = [
    *ROUTES_WITH_IDS,
    ("GET", "/schedules", None),
    ("POST", "/schedules", schedule_body()),
    ("POST", "/schedules/preview", {"kind": "cron", "cron": "* * * * *"}),
    ("GET", "/targets", None),
    ("POST", "/targets", {"name": "x", "url": "https://x.example"}),
    ("POST", "/targets/test", {"request": {"url": "https://x.example"}}),
    ("GET", "/runs", None),
    ("GET", "/notification-channels", None),
    ("POST", "/notification-channels", CHANNEL),
]
READ_ROUTES = {(m, t) for m, t, _ in EVERY_ROUTE if m == "GET"} | {("POST", "/schedules/preview")}


def test_every_route_needs_a_token(client, owner):
    for method, template, body in EVERY_ROUTE:
        for headers in ({}, {"Authorization": "Bearer hbs_forged"}, {"Authorization": "Basic x"}):
            response = client.request(method, _path(template, owner), json=body, headers=headers)
            assert response.status_code == 401, (method, template, response.text)
            assert response.json()["error"]["code"] == "unauthorized"


def test_a_read_only_key_reads_but_never_writes(client, api_engine, owner, redis_url):
    read_key = api_key_headers(api_engine, owner.workspace_id, "read")
    before = _snapshot(api_engine, owner)
    for method, template, body in EVERY_ROUTE:
        response = client.request(method, _path(template, owner), json=body, headers=read_key)
        if (method, template) in READ_ROUTES:
            assert response.status_code == 200, (method, template, response.text)
        else:
            assert response.status_code == 403, (method, template, response.text)
            assert response.json()["error"]["code"] == "forbidden"
    assert _snapshot(api_engine, owner) == before
    assert queue_length(redis_url) == 0
