"""Schedules' auto-pause and badge fields, the public badge, and template checks."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session

from hookboard.models import Schedule
from tests.api.support import (
    add_run,
    assert_field_error,
    create_schedule,
    create_target,
    new_user,
)


@pytest.fixture
def user(api_engine):
    return new_user(api_engine, "alice@example.com")


@pytest.fixture
def public(api_server):
    with httpx.Client(base_url=api_server[0], timeout=30) as http:
        yield http


def test_auto_pause_defaults_to_15_and_can_be_changed_or_turned_off(client, user):
    _, auth = user
    schedule = create_schedule(client, auth)
    assert schedule["auto_pause_after"] == 15
    assert (schedule["consecutive_failures"], schedule["failing_since"]) == (0, None)
    assert create_schedule(client, auth, auto_pause_after=0)["auto_pause_after"] == 0
    edited = client.patch(
        f"/schedules/{schedule['id']}", json={"auto_pause_after": 3}, headers=auth
    )
    assert edited.json()["auto_pause_after"] == 3
    for bad in (-1, 1001, "x"):
        response = client.post(
            "/schedules",
            json={**_body(), "auto_pause_after": bad},
            headers=auth,
        )
        assert_field_error(response, "auto_pause_after")
    response = client.patch(
        f"/schedules/{schedule['id']}", json={"auto_pause_after": None}, headers=auth
    )
    assert_field_error(response, "auto_pause_after")


def test_resume_clears_the_reason_and_the_failure_count(client, api_engine, user):
    _, auth = user
    schedule = create_schedule(client, auth)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(api_engine) as session:
        row = session.get(Schedule, schedule["id"])
        row.status, row.next_run_at = "paused", None
        row.paused_reason = "auto-paused after 15 failed runs in a row (last: timeout)"
        row.consecutive_failures, row.failing_since = 15, since
        session.add(row)
        session.commit()
    shown = client.get(f"/schedules/{schedule['id']}", headers=auth).json()
    assert shown["paused_reason"].startswith("auto-paused after 15 failed runs")
    assert shown["consecutive_failures"] == 15
    resumed = client.post(f"/schedules/{schedule['id']}/resume", headers=auth).json()
    assert resumed["status"] == "active" and resumed["paused_reason"] is None
    assert resumed["consecutive_failures"] == 0
    # The streak is not over until a run succeeds: that one will say "recovered".
    assert resumed["failing_since"] == "2026-01-01T00:00:00Z"


def test_a_badge_is_opt_in_public_and_shows_the_last_outcome(client, public, api_engine, user):
    workspace_id, auth = user
    schedule = create_schedule(client, auth)
    assert schedule["badge_url"] is None
    on = client.patch(f"/schedules/{schedule['id']}", json={"badge": True}, headers=auth).json()
    url = on["badge_url"]
    assert url.startswith("/api/v1/badges/") and url.endswith(".svg")
    token = url.removeprefix("/api/v1/badges/").removesuffix(".svg")
    assert len(token) == 24  # random, not the schedule's id

    def state() -> str:
        response = public.get(url)  # no Authorization header
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.headers["cache-control"] == "public, max-age=60"
        return response.text.split("<title>hookboard: ")[1].split("</title>")[0]

    assert state() == "unknown"
    add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule["id"], status="succeeded")
    assert state() == "passing"
    add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule["id"], status="failed")
    add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule["id"], status="pending")
    assert state() == "failing"
    client.post(f"/schedules/{schedule['id']}/pause", headers=auth)
    assert state() == "paused"

    again = client.patch(f"/schedules/{schedule['id']}", json={"badge": True}, headers=auth)
    assert again.json()["badge_url"] == url  # on stays on, same URL
    client.patch(f"/schedules/{schedule['id']}", json={"badge": False}, headers=auth)
    gone = public.get(url)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    renewed = client.patch(f"/schedules/{schedule['id']}", json={"badge": True}, headers=auth)
    assert renewed.json()["badge_url"] != url
    assert public.get("/api/v1/badges/nope.svg").status_code == 404


def test_a_badge_can_be_asked_for_at_creation(client, public, user):
    _, auth = user
    schedule = create_schedule(client, auth, badge=True)
    assert public.get(schedule["badge_url"]).status_code == 200


@pytest.mark.parametrize(
    ("request_fields", "field", "fragment"),
    [
        ({"url": "https://hooks.example.com/{{runid}}"}, "request.url", "{{runid}}"),
        ({"url": "https://{{schedule_id}}.example.com/"}, "request.url", "scheme or host"),
        (
            {"url": "https://hooks.example.com/", "headers": {"X-Run": "{{run}}"}},
            "request.headers",
            "{{run}}",
        ),
        ({"url": "https://hooks.example.com/", "body": "{{ nope }}"}, "request.body", "nope"),
    ],
)
def test_unknown_template_variables_are_a_422(client, user, request_fields, field, fragment):
    _, auth = user
    response = client.post("/schedules", json=_body(request=request_fields), headers=auth)
    error = assert_field_error(response, field)
    assert fragment in error["message"]


def test_known_template_variables_are_kept(client, user):
    _, auth = user
    request = {
        "url": "https://hooks.example.com/r/{{run_id}}?s={{schedule_id}}",
        "headers": {"X-Attempt": "{{attempt}}"},
        "body": '{"at": "{{scheduled_for}}"}',
    }
    schedule = create_schedule(client, auth, request=request)
    assert schedule["request"]["url"] == request["url"]
    assert schedule["request"]["headers"] == request["headers"]
    assert schedule["request"]["body"] == request["body"]
    edit = client.patch(
        f"/schedules/{schedule['id']}", json={"request": {"body": "{{bad}}"}}, headers=auth
    )
    assert_field_error(edit, "request.body")
    assert "for a literal" in edit.json()["error"]["message"]
    # Escaped, the same text is literal: accepted and stored as written.
    escaped = r"Hello \{{bad}}"
    edit = client.patch(
        f"/schedules/{schedule['id']}", json={"request": {"body": escaped}}, headers=auth
    )
    assert edit.status_code == 200, edit.text
    assert edit.json()["request"]["body"] == escaped


def test_targets_are_checked_too(client, user):
    _, auth = user
    response = client.post(
        "/targets", json={"name": "t", "url": "https://h.example/{{x}}"}, headers=auth
    )
    assert_field_error(response, "url")
    target = create_target(client, auth, url="https://h.example/{{run_id}}")
    response = client.patch(f"/targets/{target['id']}", json={"body": "{{y}}"}, headers=auth)
    assert_field_error(response, "body")


def test_email_channels_need_smtp_on_the_server(client, user):
    _, auth = user
    response = client.post(
        "/notification-channels",
        json={"name": "pager", "kind": "email", "email": "ops@example.com"},
        headers=auth,
    )
    error = assert_field_error(response, "kind")
    assert "SMTP_HOST" in error["message"]


def _body(**overrides) -> dict:
    body = {
        "name": "ping",
        "kind": "interval",
        "every": 1,
        "unit": "hours",
        "request": {"url": "https://hooks.example.com/ping"},
    }
    return {**body, **overrides}
