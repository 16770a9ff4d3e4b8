"""/schedules over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlmodel import Session, select

from hookboard.engine.queueing import wake_channel
from hookboard.models import Run, Schedule
from tests.api.conftest import signup
from tests.api.support import (
    API_QUEUE,
    add_run,
    assert_field_error,
    create_schedule,
    error_of,
    headers_for,
    new_user,
    queue_length,
    schedule_body,
    strict_api,  # noqa: F401 - fixture
)
from tests.api.support import strict as strict  # fixture

API_SETTINGS = {"MAX_SCHEDULES_PER_USER": "12", "MAX_WEBHOOK_BODY_BYTES": "1024"}


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def alice(api_engine):
    return headers_for(api_engine, "alice@example.com")


# --------------------------------------------------------------------------- create


def test_create_returns_the_schedule_planned_from_now(client, alice):
    before = datetime.now(UTC)
    response = client.post(
        "/schedules",
        json=schedule_body(
            request={
                "url": "https://hooks.example.com/ping",
                "method": "put",
                "headers": {"Authorization": "Bearer s3cret", "X-Team": "core"},
                "body": '{"hello": "world"}',
            }
        ),
        headers=alice,
    )
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert schedule["id"] > 0
    assert schedule["status"] == "active"
    assert schedule["kind"] == "interval" and schedule["every"] == 1
    assert schedule["request"] == {
        "url": "https://hooks.example.com/ping",
        "method": "PUT",
        "headers": {"Authorization": "***", "X-Team": "core"},
        "body": '{"hello": "world"}',
    }
    assert schedule["timeout_seconds"] == 30
    assert schedule["retry"] == {
        "max_attempts": 3,
        "backoff": "exponential",
        "base_delay_seconds": 10.0,
        "max_delay_seconds": 3600.0,
        "jitter": True,
    }
    assert schedule["misfire"] == "coalesce" and schedule["overlap"] == "skip"
    assert schedule["last_run"] is None
    # An interval anchored at its creation fires at once, then every hour.
    assert before <= parse(schedule["next_run_at"]) <= datetime.now(UTC)
    assert parse(schedule["created_at"]) == parse(schedule["updated_at"])
    assert client.get(f"/schedules/{schedule['id']}", headers=alice).json() == schedule


def test_the_secret_header_is_stored_as_given(client, alice, api_engine):
    schedule = create_schedule(
        client, alice, request={"url": "https://a.example/x", "headers": {"X-Api-Key": "k-123"}}
    )
    with Session(api_engine) as session:
        assert session.get(Schedule, schedule["id"]).headers == {"X-Api-Key": "k-123"}
    # Sending the masked value back keeps the secret; a new value replaces it.
    response = client.patch(
        f"/schedules/{schedule['id']}",
        json={"request": {"headers": {"X-Api-Key": "***", "X-New": "1"}}},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    assert response.json()["request"]["headers"] == {"X-Api-Key": "***", "X-New": "1"}
    with Session(api_engine) as session:
        assert session.get(Schedule, schedule["id"]).headers == {"X-Api-Key": "k-123", "X-New": "1"}


def test_a_cron_schedule_in_berlin(client, alice):
    schedule = create_schedule(
        client,
        alice,
        kind="cron",
        every=None,
        unit=None,
        cron="30 9 * * *",
        timezone="Europe/Berlin",
        starts_at="2031-03-29T00:00:00+01:00",
    )
    assert schedule["cron"] == "30 9 * * *"
    # 09:30 CET is 08:30 UTC.
    assert parse(schedule["next_run_at"]) == datetime(2031, 3, 29, 8, 30, tzinfo=UTC)
    assert parse(schedule["starts_at"]) == datetime(2031, 3, 28, 23, 0, tzinfo=UTC)


def test_a_once_schedule_and_a_window(client, alice):
    at = datetime.now(UTC) + timedelta(days=2)
    once = create_schedule(client, alice, kind="once", every=None, unit=None, run_at=at.isoformat())
    assert parse(once["next_run_at"]) == at.replace(microsecond=at.microsecond)
    start = datetime(2031, 1, 1, tzinfo=UTC)
    window = create_schedule(
        client,
        alice,
        kind="window",
        every=15,
        unit="minutes",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    assert parse(window["next_run_at"]) == start
    assert window["status"] == "active"


def test_create_paused(client, alice):
    schedule = create_schedule(client, alice, paused=True)
    assert schedule["status"] == "paused"
    assert schedule["next_run_at"] is None


def test_a_schedule_may_use_a_target_with_overrides(client, alice):
    target = client.post(
        "/targets", json={"name": "t", "url": "https://t.example/hook"}, headers=alice
    ).json()
    schedule = create_schedule(
        client,
        alice,
        request={"headers": {"X-Extra": "1"}},
        target_id=target["id"],
    )
    assert schedule["target_id"] == target["id"]
    assert schedule["request"] == {
        "url": None,
        "method": None,
        "headers": {"X-Extra": "1"},
        "body": None,
    }


def test_signup_tokens_work_too(client):
    headers = signup(client, "real-signup@example.com")
    schedule = create_schedule(client, headers)
    assert client.get(f"/schedules/{schedule['id']}", headers=headers).status_code == 200


# --------------------------------------------------------------------------- validation

BAD_BODIES = [
    ({"request": None}, "request.url"),
    ({"request": {"method": "POST"}}, "request.url"),
    ({"request": {"url": "ftp://files.example/x"}}, "request.url"),
    ({"request": {"url": "http://"}}, "request.url"),
    ({"request": {"url": "not a url"}}, "request.url"),
    ({"request": {"url": "https://x.example/" + "a" * 2100}}, "request.url"),
    ({"request": {"url": "https://x.example", "method": "TRACE"}}, "request.method"),
    (
        {"request": {"url": "https://x.example", "headers": {"X-A": "1\r\nX-B: 2"}}},
        "request.headers",
    ),
    ({"request": {"url": "https://x.example", "headers": {"X A": "1"}}}, "request.headers"),
    ({"request": {"url": "https://x.example", "headers": {"X-A\n": "1"}}}, "request.headers"),
    ({"request": {"url": "https://x.example", "body": "x" * 1025}}, "request.body"),
    ({"request": {"url": "https://x.example", "body": "é" * 513}}, "request.body"),
    ({"request": {"url": "https://x.example", "body": "a\x00b"}}, "request.body"),
    ({"kind": "cron", "every": None, "unit": None, "cron": "61 * * * *"}, "cron"),
    ({"kind": "cron", "every": None, "unit": None}, "cron"),
    ({"kind": "cron", "every": None, "unit": None, "cron": "@reboot"}, "cron"),
    ({"kind": "cron", "unit": None, "cron": "* * * * *"}, "every"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"kind": "weekly"}, "kind"),
    ({"unit": "fortnights"}, "unit"),
    ({"every": 0}, "every"),
    ({"every": 101, "unit": "years"}, "every"),
    ({"every": 2**40, "unit": "seconds"}, "every"),
    ({"kind": "once", "every": None, "unit": None}, "run_at"),
    ({"kind": "once", "every": None, "unit": None, "run_at": "2031-01-01T00:00:00"}, "run_at"),
    ({"kind": "window", "starts_at": "2031-01-01T00:00:00Z"}, "ends_at"),
    (
        {"starts_at": "2031-01-02T00:00:00Z", "ends_at": "2031-01-01T00:00:00Z"},
        "ends_at",
    ),
    ({"ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
    ({"retry": {"max_attempts": 0}}, "retry.max_attempts"),
    ({"retry": {"max_attempts": 21}}, "retry.max_attempts"),
    ({"retry": {"backoff": "random"}}, "retry.backoff"),
    ({"retry": {"base_delay_seconds": -1}}, "retry.base_delay_seconds"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"timeout_seconds": 1801}, "timeout_seconds"),
    ({"misfire": "later"}, "misfire"),
    ({"overlap": "queue"}, "overlap"),
    ({"name": ""}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"name": " \u3000\t"}, "name"),
    ({"paused": 1}, "paused"),
    ({"follow_redirects": "yes"}, "follow_redirects"),
    ({"retry": {"jitter": 0}}, "retry.jitter"),
    ({"kind": "once", "every": None, "unit": None, "run_at": 1900000000}, "run_at"),
    ({"colour": "blue"}, "colour"),
    ({"target_id": 987654321}, "target_id"),
    ({"target_id": 2**70}, "target_id"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_BODIES, ids=[f for _, f in BAD_BODIES])
def test_validation_errors_name_the_field(client, alice, changes, field):
    response = client.post("/schedules", json=schedule_body(**changes), headers=alice)
    error = assert_field_error(response, field)
    assert error["code"] == "validation_error"
    assert error["message"]


def test_a_body_at_the_limit_is_accepted(client, alice):
    create_schedule(client, alice, request={"url": "https://x.example", "body": "x" * 1024})


GARBAGE = [
    b"not json",
    b"[]",
    b"null",
    b'{"name": "x", "kind": "interval", "every": NaN, "unit": "hours"}',
    b'{"name": "x", "kind": "interval", "every": 1, "unit": "hours", "timeout_seconds": 1e999,'
    b' "request": {"url": "https://x.example"}}',
    b'{"name": "\\ud800", "kind": "interval", "every": 1, "unit": "hours",'
    b' "request": {"url": "https://x.example"}}',
    b'{"name": "x", "kind": "interval", "every": "1", "unit": "hours",'
    b' "request": {"url": "https://x.example", "headers": {"\\ud800": "x"}}}',
    b'{"name": "x", "kind": "once", "run_at": "9999-12-31T23:59:59-12:00",'
    b' "request": {"url": "https://x.example"}}',
    b'{"name": "x", "kind": "once", "run_at": "0001-01-01T00:00:00+14:00",'
    b' "request": {"url": "https://x.example"}}',
    b'{"name": "x", "kind": "interval", "every": 100, "unit": "years",'
    b' "starts_at": "8999-01-01T00:00:00Z", "request": {"url": "https://x.example"}}',
    b'{"name": "x", "kind": "cron", "cron": "0 0 30 2 *", "request": {"url": "https://x.example"}}',
    b'{"name": "x", "kind": "cron", "cron": "* * * * * * *", "request": {"url": "https://x.e"}}',
    b'{"name": "x", "kind": "interval", "every": 1, "unit": "hours", "request": {"url":'
    b' "http://[::ffff:1.2.3.4%25eth0]:99999/"}}',
    b'{"name": "x", "kind": "interval", "every": 1, "unit": "hours", "request": "https://x"}',
    b'{"name": ["x"], "kind": {}, "every": [], "unit": 5, "request": {"url": 7}}',
]


@pytest.mark.parametrize("raw", GARBAGE)
def test_odd_bodies_are_never_a_500(client, alice, raw):
    response = client.post(
        "/schedules", content=raw, headers={**alice, "Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text


def test_garbage_ids_and_queries_are_never_a_500(client, alice):
    for path in (
        "/schedules/0",
        "/schedules/-1",
        f"/schedules/{2**63}",
        f"/schedules/{2**80}",
        "/schedules/abc",
        "/schedules?limit=0",
        "/schedules?limit=100000",
        "/schedules?status=sleeping",
        "/schedules?cursor=%00%01",
        f"/schedules/{2**70}/stats",
    ):
        response = client.get(path, headers=alice)
        assert 400 <= response.status_code < 500, (path, response.text)
    response = client.patch(f"/schedules/{2**64}", json={"name": "x"}, headers=alice)
    assert response.status_code == 404


def test_the_private_address_rules_apply_at_create_and_edit(strict):
    client, headers = strict
    for url in (
        "http://127.0.0.1/hook",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://localhost/",  # names that are always loopback (RFC 6761)
        "http://api.localhost:8080/",
        "http://LOCALHOST./",
        "http://ip6-localhost/",
    ):
        response = client.post(
            "/schedules", json=schedule_body(request={"url": url}), headers=headers
        )
        assert_field_error(response, "request.url")
    schedule = create_schedule(client, headers, request={"url": "https://93.184.215.14/hook"})
    # Another host name passes here; its addresses are checked at every delivery.
    response = client.patch(
        f"/schedules/{schedule['id']}",
        json={"request": {"url": "http://hooks.example.com:8080/"}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    for url in ("http://10.0.0.1/", "http://localhost:8080/"):
        response = client.patch(
            f"/schedules/{schedule['id']}", json={"request": {"url": url}}, headers=headers
        )
        assert_field_error(response, "request.url")


def test_the_quota_per_user(client, api_engine):
    headers = headers_for(api_engine, "busy@example.com")
    for n in range(12):
        create_schedule(client, headers, name=f"s{n}")
    response = client.post("/schedules", json=schedule_body(), headers=headers)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "quota_exceeded"
    assert "12" in error["message"] and "MAX_SCHEDULES_PER_USER" in error["message"]
    # Another user is not affected.
    create_schedule(client, headers_for(api_engine, "idle@example.com"))


# --------------------------------------------------------------------------- list


def test_the_cursor_walk_returns_every_schedule_once(client, alice, api_engine):
    created = [create_schedule(client, alice, name=f"s{n}")["id"] for n in range(7)]
    create_schedule(client, headers_for(api_engine, "bob@example.com"), name="not alice's")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/schedules", params=params, headers=alice).json()
        pages += 1
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert pages == 3


def test_list_filters_by_status_and_shows_the_last_run(client, alice, api_engine):
    workspace_id, headers = new_user(api_engine, "carol@example.com")
    first = create_schedule(client, headers, name="a")
    second = create_schedule(client, headers, name="b", paused=True)
    add_run(
        api_engine, workspace_id=workspace_id, schedule_id=first["id"], status="failed", attempts=1
    )
    newest = add_run(
        api_engine, workspace_id=workspace_id, schedule_id=first["id"], status="succeeded"
    )
    items = client.get("/schedules", headers=headers).json()["items"]
    assert [item["id"] for item in items] == [first["id"], second["id"]]
    assert items[0]["last_run"]["id"] == newest
    assert items[0]["last_run"]["status"] == "succeeded"
    assert items[0]["last_run"]["status_code"] == 200
    assert items[1]["last_run"] is None
    paused = client.get("/schedules", params={"status": "paused"}, headers=headers).json()
    assert [item["id"] for item in paused["items"]] == [second["id"]]
    assert paused["next_cursor"] is None
    assert client.get("/schedules", headers=alice).json() == {"items": [], "next_cursor": None}


def test_a_forged_cursor_is_a_422(client, alice):
    for cursor in ("abc", "cjox", "czotMQ", "czox" + "A" * 60):
        response = client.get("/schedules", params={"cursor": cursor}, headers=alice)
        assert_field_error(response, "cursor")


# --------------------------------------------------------------------------- edit


def test_patch_changes_only_what_is_given(client, alice):
    schedule = create_schedule(client, alice, kind="cron", every=None, unit=None, cron="0 3 * * *")
    response = client.patch(
        f"/schedules/{schedule['id']}",
        json={"name": "renamed", "retry": {"max_attempts": 5}},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["name"] == "renamed"
    assert edited["retry"]["max_attempts"] == 5
    assert edited["retry"]["backoff"] == "exponential"
    assert edited["next_run_at"] == schedule["next_run_at"]
    assert edited["request"] == schedule["request"]
    assert parse(edited["updated_at"]) > parse(schedule["updated_at"])


def test_patch_timing_recomputes_next_run_at(client, alice):
    schedule = create_schedule(
        client,
        alice,
        kind="cron",
        every=None,
        unit=None,
        cron="0 3 * * *",
        starts_at="2031-06-01T00:00:00Z",
    )
    assert parse(schedule["next_run_at"]) == datetime(2031, 6, 1, 3, tzinfo=UTC)
    response = client.patch(
        f"/schedules/{schedule['id']}",
        json={"cron": "15 4 * * *", "timezone": "America/New_York"},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    assert parse(response.json()["next_run_at"]) == datetime(2031, 6, 1, 8, 15, tzinfo=UTC)
    # Another kind: fields of the old kind go, the new kind's are required.
    response = client.patch(
        f"/schedules/{schedule['id']}", json={"kind": "interval"}, headers=alice
    )
    assert_field_error(response, "every")
    response = client.patch(
        f"/schedules/{schedule['id']}",
        json={"kind": "interval", "every": 2, "unit": "days"},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    assert response.json()["cron"] is None
    assert parse(response.json()["next_run_at"]) == datetime(2031, 6, 1, tzinfo=UTC)


def test_patch_validation(client, alice):
    schedule = create_schedule(client, alice)
    path = f"/schedules/{schedule['id']}"
    for body, field in (
        ({"name": None}, "name"),
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"cron": "* * * * *"}, "cron"),
        ({"retry": {"max_attempts": 99}}, "retry.max_attempts"),
        ({"retry": {"jitter": None}}, "retry.jitter"),
        ({"request": {"url": None}}, "request.url"),
        ({"request": {"url": "gopher://x"}}, "request.url"),
        ({"request": {"body": "y" * 2000}}, "request.body"),
        ({"target_id": 123456789}, "target_id"),
        ({"id": 5}, "id"),
    ):
        assert_field_error(client.patch(path, json=body, headers=alice), field)
    assert client.get(path, headers=alice).json() == schedule


def test_delete(client, alice, api_engine):
    workspace_id, headers = new_user(api_engine, "dan@example.com")
    schedule = create_schedule(client, headers)
    add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule["id"], attempts=2)
    response = client.delete(f"/schedules/{schedule['id']}", headers=headers)
    assert response.status_code == 204 and response.content == b""
    assert client.get(f"/schedules/{schedule['id']}", headers=headers).status_code == 404
    assert client.delete(f"/schedules/{schedule['id']}", headers=headers).status_code == 404
    with Session(api_engine) as session:
        assert session.exec(select(Run)).all() == []


# --------------------------------------------------------------------------- actions


def test_pause_and_resume(client, alice):
    schedule = create_schedule(client, alice, every=10, unit="minutes")
    path = f"/schedules/{schedule['id']}"
    paused = client.post(f"{path}/pause", headers=alice)
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused" and paused.json()["next_run_at"] is None
    assert client.post(f"{path}/pause", headers=alice).json()["status"] == "paused"
    before = datetime.now(UTC)
    resumed = client.post(f"{path}/resume", headers=alice).json()
    assert resumed["status"] == "active"
    # Recomputed from now on the original grid: within the next ten minutes.
    next_run = parse(resumed["next_run_at"])
    assert before - timedelta(seconds=1) <= next_run <= before + timedelta(minutes=10)
    assert client.post(f"{path}/resume", headers=alice).json() == resumed
    # The same through PATCH.
    assert client.patch(path, json={"paused": True}, headers=alice).json()["status"] == "paused"
    assert client.patch(path, json={"paused": False}, headers=alice).json()["status"] == "active"


def test_every_change_wakes_the_tickers(client, alice, redis_url):
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(wake_channel(API_QUEUE))
    pubsub.get_message(timeout=1)

    def woken() -> int:
        count = 0
        while pubsub.get_message(timeout=0.2) is not None:
            count += 1
        return count

    try:
        schedule = create_schedule(client, alice)
        assert woken() == 1
        path = f"/schedules/{schedule['id']}"
        client.patch(path, json={"every": 3}, headers=alice)
        assert woken() == 1
        client.post(f"{path}/pause", headers=alice)
        client.post(f"{path}/resume", headers=alice)
        assert woken() == 2
        client.delete(path, headers=alice)
        assert woken() == 1
    finally:
        pubsub.close()
        redis.close()


def test_a_completed_schedule_cannot_be_paused_or_resumed(client, alice, api_engine):
    schedule = create_schedule(client, alice)
    with Session(api_engine) as session:
        row = session.get(Schedule, schedule["id"])
        row.status, row.next_run_at = "completed", None
        session.add(row)
        session.commit()
    for action in ("pause", "resume"):
        response = client.post(f"/schedules/{schedule['id']}/{action}", headers=alice)
        assert response.status_code == 409
    # Editing its timing brings it back.
    response = client.patch(
        f"/schedules/{schedule['id']}", json={"every": 2, "unit": "hours"}, headers=alice
    )
    assert response.json()["status"] == "active"


def test_trigger_records_a_manual_run_and_queues_it(client, alice, api_engine, redis_url):
    schedule = create_schedule(client, alice, paused=True)
    response = client.post(f"/schedules/{schedule['id']}/trigger", headers=alice)
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    assert queue_length(redis_url) == 1
    with Session(api_engine) as session:
        run = session.get(Run, run_id)
        assert (run.schedule_id, run.trigger, run.status) == (schedule["id"], "manual", "pending")
    last = client.get(f"/schedules/{schedule['id']}", headers=alice).json()["last_run"]
    assert last["id"] == run_id and last["status"] == "pending"


# --------------------------------------------------------------------------- idempotency


def test_a_retried_create_returns_the_first_result(client, alice, api_engine):
    key = {"Idempotency-Key": "create-ping-0001"}
    first = client.post("/schedules", json=schedule_body(), headers={**alice, **key})
    again = client.post("/schedules", json=schedule_body(), headers={**alice, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(client.get("/schedules", headers=alice).json()["items"]) == 1
    # The same key with another body is refused.
    other = client.post("/schedules", json=schedule_body(name="other"), headers={**alice, **key})
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    # Keys are per user.
    bob = headers_for(api_engine, "bob@example.com")
    theirs = client.post("/schedules", json=schedule_body(), headers={**bob, **key})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    # A failed request does not use the key up.
    bad = client.post(
        "/schedules",
        json=schedule_body(timezone="Nope/Nope"),
        headers={**alice, "Idempotency-Key": "k2"},
    )
    assert bad.status_code == 422
    good = client.post(
        "/schedules", json=schedule_body(), headers={**alice, "Idempotency-Key": "k2"}
    )
    assert good.status_code == 201
    too_long = client.post(
        "/schedules", json=schedule_body(), headers={**alice, "Idempotency-Key": "k" * 300}
    )
    assert_field_error(too_long, "Idempotency-Key")


def test_a_retried_trigger_runs_once(client, alice, redis_url):
    schedule = create_schedule(client, alice, paused=True)
    headers = {**alice, "Idempotency-Key": "trigger-1"}
    first = client.post(f"/schedules/{schedule['id']}/trigger", headers=headers)
    again = client.post(f"/schedules/{schedule['id']}/trigger", headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert queue_length(redis_url) == 1


# --------------------------------------------------------------------------- stats and preview


def test_stats(client, api_engine):
    workspace_id, headers = new_user(api_engine, "erin@example.com")
    schedule = create_schedule(client, headers)
    now = datetime.now(UTC)
    for n, latency in enumerate((100.0, 200.0, 300.0, 400.0)):
        add_run(
            api_engine,
            workspace_id=workspace_id,
            schedule_id=schedule["id"],
            scheduled_for=now - timedelta(hours=n + 1),
            status="succeeded",
            latency_ms=latency,
            attempts=1,
            lag_seconds=0.5 * (n + 1),
        )
    add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule["id"],
        scheduled_for=now - timedelta(hours=6),
        status="failed",
        latency_ms=500.0,
        attempts=3,
        lag_seconds=2.5,
    )
    add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule["id"],
        scheduled_for=now - timedelta(hours=7),
        status="skipped",
    )
    add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule["id"],
        scheduled_for=now - timedelta(days=3),
        status="failed",
        latency_ms=9000.0,
        attempts=1,
    )
    response = client.get(f"/schedules/{schedule['id']}/stats", headers=headers)
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["window"] == "24h"
    assert stats["runs"] == {
        "total": 6,
        "succeeded": 4,
        "failed": 1,
        "skipped": 1,
        "pending": 0,
        "running": 0,
        "retrying": 0,
    }
    assert stats["success_rate"] == pytest.approx(0.8)
    assert stats["latency_ms"]["p50"] == pytest.approx(300.0)
    assert stats["latency_ms"]["p99"] == pytest.approx(496.0)
    # First attempts started 0.5, 1.0, 1.5, 2.0 and 2.5 s late.
    assert stats["fire_lag_ms"]["p50"] == pytest.approx(1500.0)
    assert stats["fire_lag_ms"]["p99"] == pytest.approx(2480.0)
    week = client.get(
        f"/schedules/{schedule['id']}/stats", params={"window": "7d"}, headers=headers
    ).json()
    assert week["runs"]["total"] == 7 and week["runs"]["failed"] == 2
    assert week["success_rate"] == pytest.approx(4 / 6)
    empty = client.get(
        f"/schedules/{create_schedule(client, headers)['id']}/stats", headers=headers
    ).json()
    assert empty["success_rate"] is None and empty["latency_ms"]["p50"] is None
    bad = client.get(f"/schedules/{schedule['id']}/stats?window=1h", headers=headers)
    assert_field_error(bad, "window")


def test_preview_of_a_cron_in_berlin_across_the_dst_change(client, alice):
    response = client.post(
        "/schedules/preview",
        json={
            "kind": "cron",
            "cron": "30 9 * * *",
            "timezone": "Europe/Berlin",
            "starts_at": "2031-03-28T00:00:00+01:00",
        },
        headers=alice,
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert "09:30" in preview["description"] and "Europe/Berlin" in preview["description"]
    # Berlin moves to summer time on 30 March 2031: same wall time, another offset.
    assert preview["next"] == [
        "2031-03-28T09:30:00+01:00",
        "2031-03-29T09:30:00+01:00",
        "2031-03-30T09:30:00+02:00",
        "2031-03-31T09:30:00+02:00",
        "2031-04-01T09:30:00+02:00",
    ]


def test_preview_from_now_and_its_errors(client, alice):
    response = client.post(
        "/schedules/preview",
        json={"kind": "interval", "every": 90, "unit": "seconds", "name": "ignored", "count": 3},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    instants = [parse(value) for value in response.json()["next"]]
    assert [b - a for a, b in itertools.pairwise(instants)] == [timedelta(seconds=90)] * 2
    assert abs(instants[0] - datetime.now(UTC)) < timedelta(seconds=5)
    for body, field in (
        ({"kind": "cron", "cron": "0 25 * * *"}, "cron"),
        ({"kind": "cron", "cron": "0 5 * * *", "timezone": "Europe/Atlantis"}, "timezone"),
        ({"kind": "interval", "unit": "days"}, "every"),
        ({"cron": "* * * * *"}, "kind"),
    ):
        response = client.post("/schedules/preview", json=body, headers=alice)
        assert_field_error(response, field)


def test_unauthenticated_is_a_401(client):
    assert client.get("/schedules").status_code == 401
    assert client.post("/schedules", json=schedule_body()).status_code == 401
    response = client.get("/schedules", headers={"Authorization": "Bearer hbs_nope"})
    assert response.status_code == 401


def test_a_405_allows_every_method_of_the_resource(client, alice):
    # GET and POST /schedules are two routes; the header names both.
    response = client.put("/schedules", json={}, headers=alice)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert error_of(response)["code"] == "method_not_allowed"
    response = client.request("OPTIONS", "/schedules/1", headers=alice)
    assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    # /schedules/preview is its own resource, not an id that fails to parse.
    for method in ("GET", "DELETE"):
        response = client.request(method, "/schedules/preview", headers=alice)
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "POST"
    # A bad id on a real resource is still the id's 422.
    assert_field_error(client.get("/schedules/abc", headers=alice), "schedule_id")
