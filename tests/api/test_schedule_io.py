"""GET /schedules/export and POST /schedules/import over real HTTP, on SQLite and
PostgreSQL: a round trip, dry runs, all-or-nothing, secrets, matching by name."""

from __future__ import annotations

import json

import pytest

from tests.api.support import (
    api_key_headers,
    assert_field_error,
    create_schedule,
    create_target,
    error_of,
    new_user,
)

SECRET_HEADERS = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}


@pytest.fixture
def alice(api_engine):
    return new_user(api_engine, "alice@example.com")[1]


@pytest.fixture
def bob(api_engine):
    return new_user(api_engine, "bob@example.com")[1]


def export(client, auth, **params) -> dict:
    response = client.get("/schedules/export", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def import_(client, auth, document, dry_run=False):
    params = {"dry_run": "true"} if dry_run else {}
    return client.post("/schedules/import", json=document, params=params, headers=auth)


def actions(report: dict) -> dict[str, str]:
    return {f"{item['type']}:{item['name']}": item["action"] for item in report["items"]}


def without_timestamp(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "exported_at"}


def by_name_of(client, auth) -> dict[str, dict]:
    return {s["name"]: s for s in client.get("/schedules", headers=auth).json()["items"]}


def token_of(badge_url: str) -> str:
    return badge_url.rsplit("/", 1)[1].removesuffix(".svg")


def seed(client, auth) -> None:
    """A target, a schedule using it, one with its own secret header (and a badge and its own
    auto-pause), one paused."""
    target = create_target(client, auth, name="crm", url="https://crm.example/hook")
    create_schedule(
        client, auth, name="via target", kind="cron", cron="0 2 * * *", every=None, unit=None,
        timezone="Europe/Berlin", target_id=target["id"], request={"body": '{"x": 1}'},
    )  # fmt: skip
    create_schedule(
        client, auth, name="own request",
        request={"url": "https://hooks.example.com/a", "method": "PUT", "headers": SECRET_HEADERS},
        retry={"max_attempts": 5, "backoff": "linear", "base_delay_seconds": 2},
        auto_pause_after=3, badge=True,
    )  # fmt: skip
    create_schedule(
        client, auth, name="resting", kind="window", every=10, unit="minutes",
        starts_at="2030-01-01T09:00:00+01:00", ends_at="2030-01-01T17:00:00+01:00", paused=True,
    )  # fmt: skip


def test_an_export_imports_into_another_account_unchanged(client, alice, bob):
    seed(client, alice)
    document = export(client, alice, include_secrets="true")
    assert [t["name"] for t in document["targets"]] == ["crm"]
    assert [s["name"] for s in document["schedules"]] == ["via target", "own request", "resting"]
    assert document["schedules"][0]["target"] == "crm"
    assert document["schedules"][1]["request"]["headers"] == SECRET_HEADERS
    assert "id" not in document["schedules"][0] and "target_id" not in document["schedules"][0]
    assert [(s["auto_pause_after"], s["badge"]) for s in document["schedules"]] == [
        (15, False),
        (3, True),
        (15, False),
    ]
    alice_badge = by_name_of(client, alice)["own request"]["badge_url"]
    assert alice_badge and token_of(alice_badge) not in json.dumps(document)  # the opt-in only

    report = import_(client, bob, document)
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 4 and report.json()["dry_run"] is False
    assert without_timestamp(export(client, bob, include_secrets="true")) == without_timestamp(
        document
    )
    schedules = client.get("/schedules", headers=bob).json()["items"]
    by_name = {s["name"]: s for s in schedules}
    assert by_name["resting"]["status"] == "paused"
    assert by_name["via target"]["next_run_at"] is not None
    assert by_name["own request"]["request"]["headers"]["Authorization"] == "***"
    assert by_name["own request"]["auto_pause_after"] == 3
    assert by_name["own request"]["badge_url"] not in (None, alice_badge)  # a fresh token
    assert by_name["via target"]["badge_url"] is None


def test_importing_your_own_export_changes_nothing(client, alice):
    seed(client, alice)
    before = client.get("/schedules", headers=alice).json()["items"]
    report = import_(client, alice, export(client, alice)).json()  # secrets masked
    assert report["unchanged"] == 4 and report["created"] == report["updated"] == 0
    after = client.get("/schedules", headers=alice).json()["items"]
    assert after == before  # same ids, same next_run_at, secrets kept, same badge URL


def test_a_dry_run_reports_creates_and_updates_and_writes_nothing(client, alice):
    seed(client, alice)
    document = export(client, alice)
    document["schedules"][1]["request"]["url"] = "https://hooks.example.com/b"
    document["schedules"][1]["retry"]["max_attempts"] = 2
    document["schedules"][1]["badge"] = False
    document["schedules"][2].update(auto_pause_after=0, badge=True)
    new = {"name": "new one", "kind": "interval", "every": 5, "unit": "minutes"}
    document["schedules"].append({**new, "request": {"url": "https://n.example"}})
    before = client.get("/schedules", headers=alice).json()["items"]

    report = import_(client, alice, document, dry_run=True)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["dry_run"] is True
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 2, 2)
    changes = {
        item["name"]: item["changes"] for item in body["items"] if item["action"] == "update"
    }
    assert changes == {
        "own request": ["badge", "request.url", "retry.max_attempts"],
        "resting": ["auto_pause_after", "badge"],
    }
    created = next(item for item in body["items"] if item["action"] == "create")
    assert created == {"type": "schedule", "name": "new one", "action": "create", "id": None,
                       "changes": []}  # fmt: skip
    assert client.get("/schedules", headers=alice).json()["items"] == before

    applied = import_(client, alice, document).json()
    assert actions(applied) == actions(body)
    after = by_name_of(client, alice)
    edited = after["own request"]
    assert edited["request"]["url"] == "https://hooks.example.com/b"
    assert edited["retry"]["max_attempts"] == 2
    assert edited["request"]["headers"]["Authorization"] == "***"
    assert edited["badge_url"] is None
    assert after["resting"]["auto_pause_after"] == 0 and after["resting"]["badge_url"]
    assert after["resting"]["status"] == "paused"


def test_one_bad_item_and_nothing_is_written(client, alice):
    document = {
        "version": 1,
        "targets": [{"name": "t", "url": "https://t.example"}],
        "schedules": [
            {"name": "fine", "kind": "cron", "cron": "*/5 * * * *", "target": "t"},
            {"name": "broken", "kind": "cron", "cron": "61 * * * *", "target": "t"},
        ],
    }
    for dry_run in (True, False):
        response = import_(client, alice, document, dry_run=dry_run)
        assert_field_error(response, "schedules.1.cron")
    assert client.get("/targets", headers=alice).json()["items"] == []
    assert client.get("/schedules", headers=alice).json()["items"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["schedules"][0].update(target="nope"), "schedules.0.target"),
        (lambda d: d["schedules"][0].update(kind="sometimes"), "schedules.0.kind"),
        (lambda d: d["schedules"][0].update(surprise=1), "schedules.0.surprise"),
        (lambda d: d["schedules"].append(dict(d["schedules"][0])), "schedules.1.name"),
        (lambda d: d["targets"][0].update(url="ftp://t.example"), "targets.0.url"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["schedules"][0].update(auto_pause_after=1001), "schedules.0.auto_pause_after"),
        (lambda d: d["schedules"][0].update(badge="yes"), "schedules.0.badge"),
    ],
)
def test_errors_name_the_item_and_field(client, alice, change, field):
    document = {
        "targets": [{"name": "t", "url": "https://t.example"}],
        "schedules": [{"name": "s", "kind": "cron", "cron": "0 * * * *", "target": "t"}],
    }
    change(document)
    assert_field_error(import_(client, alice, document), field)


def test_a_masked_secret_with_nothing_to_keep_is_refused(client, alice, bob):
    seed(client, alice)
    masked = export(client, alice)
    assert masked["schedules"][1]["request"]["headers"]["Authorization"] == "***"
    error = assert_field_error(import_(client, bob, masked), "schedules.1.request.headers")
    assert "include_secrets" in error["message"]
    assert client.get("/schedules", headers=bob).json()["items"] == []


def test_secrets_need_a_write_scope_to_leave(client, api_engine):
    workspace_id, session = new_user(api_engine, "carol@example.com")
    create_schedule(
        client, session, request={"url": "https://x.example", "headers": SECRET_HEADERS}
    )
    reader = api_key_headers(api_engine, workspace_id, "read")
    masked = export(client, reader)
    assert masked["schedules"][0]["request"]["headers"]["Authorization"] == "***"
    refused = client.get("/schedules/export", params={"include_secrets": "true"}, headers=reader)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    assert import_(client, reader, masked).status_code == 403
    writer = api_key_headers(api_engine, workspace_id, "write")
    full = export(client, writer, include_secrets="true")
    assert full["schedules"][0]["request"]["headers"]["Authorization"] == "Bearer t0ken"


def test_two_schedules_with_the_imported_name_are_a_conflict(client, alice):
    create_schedule(client, alice, name="twin")
    create_schedule(client, alice, name="twin")
    document = {"schedules": [{"name": "twin", "kind": "once",
                               "run_at": "2031-01-01T00:00:00Z",
                               "request": {"url": "https://x.example"}}]}  # fmt: skip
    response = import_(client, alice, document)
    error = assert_field_error(response, "schedules.0.name", status=409)
    assert error["code"] == "ambiguous_name"


def test_a_timing_change_replans_and_the_others_keep_their_phase(client, alice):
    first = create_schedule(client, alice, name="a", every=1, unit="hours")
    create_schedule(client, alice, name="b", every=1, unit="hours")
    document = export(client, alice)
    document["schedules"][1].update(kind="cron", cron="15 3 * * *", every=None, unit=None)
    report = import_(client, alice, document).json()
    assert actions(report) == {"schedule:a": "unchanged", "schedule:b": "update"}
    assert report["items"][1]["changes"] == ["cron", "every", "kind", "unit"]
    items = {s["name"]: s for s in client.get("/schedules", headers=alice).json()["items"]}
    assert items["a"]["next_run_at"] == first["next_run_at"]
    assert items["b"]["kind"] == "cron" and items["b"]["next_run_at"].endswith(":15:00Z")


def test_the_export_route_is_not_taken_for_a_schedule_id(client, alice):
    assert client.get("/schedules/export", headers=alice).status_code == 200
    assert client.get("/schedules/export").status_code == 401
    assert client.post("/schedules/import", json={}).status_code == 401
