"""The audit log over real HTTP, on SQLite and PostgreSQL: every audited change
shows who made it (a person, or a key and its creator), what changed (secrets
masked), from where; owners and admins read it, filtered and paged, or export
it as JSON lines."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import Engine, insert, text
from sqlmodel import Session, select

from hookboard.domain.tokens import new_api_key, new_session_token
from hookboard.models import ApiKey, AuditEvent, AuthSession, Membership, Run, Schedule, User
from hookboard.services import crud
from hookboard.services.audit.reading import EXPORT_BATCH

API_SETTINGS = {"TRUSTED_PROXY_HOPS": "1"}
# bcrypt of "correct horse battery" (cost 4): for users who never log in here.
PASSWORD_HASH = "$2b$04$mU6KxAQcb2vuF4Z.6S8E.uTjMAnFXLROS6AQeRWxkRo426emx2PZ."
# A documentation address (RFC 5737), written into a header only: no traffic goes there.
CLIENT_IP = "203.0.113.5"
AGENT = "audit-test/1.0"
FROM_CLIENT = {"X-Forwarded-For": CLIENT_IP, "User-Agent": AGENT}
SECRET_BEFORE, SECRET_AFTER = "Bearer first-s3cret-value", "Bearer second-s3cret-value"


# --------------------------------------------------------------------------- people


def person(engine: Engine, email: str) -> tuple[int, dict[str, str]]:
    """(user id, request headers) of a user with a personal workspace and a session."""
    issued = new_session_token()
    with Session(engine) as session:
        user = User(email=email, password_hash=PASSWORD_HASH)
        session.add(user)
        session.flush()
        crud.create_workspace(session, name="Personal", owner_id=user.id, personal=True)
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=issued.token_hash,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        session.commit()
        return user.id, {"Authorization": f"Bearer {issued.token}", **FROM_CLIENT}


def personal_workspace(engine: Engine, user_id: int) -> int:
    with Session(engine) as session:
        return crud.personal_workspace_id(session, user_id)


def join(engine: Engine, user_id: int, workspace_id: int, role: str) -> None:
    with Session(engine) as session:
        session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
        session.commit()


def in_workspace(headers: dict[str, str], workspace_id: int) -> dict[str, str]:
    return {**headers, "Hookboard-Workspace": str(workspace_id)}


def key_headers(engine: Engine, *, workspace_id: int, creator_id: int, scope: str) -> dict:
    issued = new_api_key()
    with Session(engine) as session:
        session.add(
            ApiKey(
                workspace_id=workspace_id,
                name=f"{scope} key",
                prefix=issued.display_prefix,
                key_hash=issued.token_hash,
                scope=scope,
                created_by_user_id=creator_id,
            )
        )
        session.commit()
    return {"Authorization": f"Bearer {issued.token}", **FROM_CLIENT}


@pytest.fixture
def alice(api_engine) -> tuple[int, dict[str, str]]:
    return person(api_engine, "alice@example.com")


def events(client: httpx.Client, auth: dict, **params) -> list[dict]:
    response = client.get("/audit-events", params={"limit": 200, **params}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def only(client: httpx.Client, auth: dict, action: str) -> dict:
    found = events(client, auth, action=action)
    assert len(found) == 1, found
    return found[0]


def schedule_body(**overrides) -> dict:
    return {
        "name": "ping",
        "kind": "interval",
        "every": 1,
        "unit": "hours",
        "request": {
            "url": "https://hooks.example.com/ping?token=url-s3cret&page=2",
            "method": "POST",
            "headers": {"Authorization": SECRET_BEFORE, "X-Team": "billing"},
        },
        **overrides,
    }


def create_schedule(client, auth, **overrides) -> dict:
    response = client.post("/schedules", json=schedule_body(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


# --------------------------------------------------------------------------- recording


def test_a_schedules_life_is_recorded_with_who_where_and_masked_changes(client, alice):
    user_id, auth = alice
    schedule = create_schedule(client, auth)
    edit = {"request": {"headers": {"Authorization": SECRET_AFTER, "X-Team": "billing"}}}
    assert client.patch(f"/schedules/{schedule['id']}", json=edit, headers=auth).status_code == 200
    for step in ("pause", "resume"):
        response = client.post(f"/schedules/{schedule['id']}/{step}", headers=auth)
        assert response.status_code == 200, response.text
    trigger = client.post(f"/schedules/{schedule['id']}/trigger", headers=auth)
    assert trigger.status_code == 202, trigger.text
    assert client.delete(f"/schedules/{schedule['id']}", headers=auth).status_code == 204

    found = events(client, auth, object_type="schedule")
    assert [event["action"] for event in found] == [
        "schedule.delete",
        "schedule.trigger",
        "schedule.resume",
        "schedule.pause",
        "schedule.update",
        "schedule.create",
    ]
    for event in found:
        assert event["actor"] == {"type": "user", "id": user_id, "email": "alice@example.com"}
        assert event["object_id"] == str(schedule["id"])
        assert (event["ip"], event["user_agent"]) == (CLIENT_IP, AGENT)
    update = found[4]
    # The secret header changed: shown changed, masked on both sides.
    assert update["changes"] == {
        "headers": [
            {"Authorization": "***", "X-Team": "billing"},
            {"Authorization": "***", "X-Team": "billing"},
        ]
    }
    created = found[5]["changes"]
    assert created["url"] == [None, "https://hooks.example.com/ping?token=***&page=2"]
    assert created["name"] == [None, "ping"]
    assert found[3]["changes"]["status"] == ["active", "paused"]
    assert found[2]["changes"]["status"] == ["paused", "active"]
    assert found[1]["changes"]["run_id"] == [None, trigger.json()["run_id"]]
    assert found[0]["changes"]["name"] == ["ping", None]
    # Pausing by an edit of `paused` alone is a pause too.
    again = create_schedule(client, auth, name="again")
    toggled = client.patch(f"/schedules/{again['id']}", json={"paused": True}, headers=auth)
    assert toggled.status_code == 200, toggled.text
    assert [e["action"] for e in events(client, auth, object_id=str(again["id"]))] == [
        "schedule.pause",
        "schedule.create",
    ]
    export = client.get("/audit-events/export", headers=auth).text
    for secret in ("s3cret", SECRET_BEFORE, SECRET_AFTER):
        assert secret not in json.dumps(found) and secret not in export


def test_a_keys_changes_name_the_key_and_its_creator(client, api_engine, alice):
    _, auth = alice
    created = client.post("/api-keys", json={"name": "ci", "scope": "write"}, headers=auth)
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    key_auth = {"Authorization": f"Bearer {created.json()['key']}", "User-Agent": "ci-bot"}
    target = client.post(
        "/targets", json={"name": "billing", "url": "https://t.example/b"}, headers=key_auth
    )
    assert target.status_code == 201, target.text

    by_key = only(client, auth, "target.create")
    assert by_key["actor"] == {"type": "api_key", "id": key_id, "email": "alice@example.com"}
    assert by_key["user_agent"] == "ci-bot"
    assert by_key["changes"]["url"] == [None, "https://t.example/b"]
    assert client.delete(f"/api-keys/{key_id}", headers=auth).status_code == 204
    for action in ("key.create", "key.revoke"):
        event = only(client, auth, action)
        assert event["actor"]["type"] == "user" and event["object_id"] == str(key_id)
    assert only(client, auth, "key.create")["changes"]["scope"] == [None, "write"]
    assert "key_hash" not in only(client, auth, "key.create")["changes"]
    assert only(client, auth, "key.revoke")["changes"]["revoked_at"][0] is None
    # The filter by actor finds the key's work only.
    mine = events(client, auth, actor_type="api_key", actor_id=key_id)
    assert [event["action"] for event in mine] == ["target.create"]


def test_targets_and_channels_are_recorded_without_their_secrets(client, alice):
    _, auth = alice
    body = {"name": "billing", "url": "https://t.example/b", "headers": {"X-Api-Key": "k-1"}}
    target = client.post("/targets", json=body, headers=auth).json()
    edit = {"headers": {"X-Api-Key": "k-2"}, "name": "billing-2"}
    assert client.patch(f"/targets/{target['id']}", json=edit, headers=auth).status_code == 200
    assert client.delete(f"/targets/{target['id']}", headers=auth).status_code == 204
    slack = "https://hooks.slack.com/services/T000/B000/channel-s3cret"
    channel = client.post(
        "/notification-channels",
        json={"name": "ops", "kind": "webhook", "url": slack},
        headers=auth,
    )
    assert channel.status_code == 201, channel.text
    channel_id = channel.json()["id"]
    rename = {"name": "ops-2", "url": slack.replace("channel", "other")}
    patched = client.patch(f"/notification-channels/{channel_id}", json=rename, headers=auth)
    assert patched.status_code == 200, patched.text
    assert client.delete(f"/notification-channels/{channel_id}", headers=auth).status_code == 204

    assert [e["action"] for e in events(client, auth, action="target.")] == [
        "target.delete",
        "target.update",
        "target.create",
    ]
    assert only(client, auth, "target.update")["changes"] == {
        "headers": [{"X-Api-Key": "***"}, {"X-Api-Key": "***"}],
        "name": ["billing", "billing-2"],
    }
    channel_events = events(client, auth, object_type="channel", object_id=str(channel_id))
    assert [e["action"] for e in channel_events] == [
        "channel.delete",
        "channel.update",
        "channel.create",
    ]
    masked = "https://hooks.slack.com/***"
    assert channel_events[1]["changes"]["url"] == [masked, masked]
    assert channel_events[2]["changes"]["url"] == [None, masked]
    dumped = json.dumps(events(client, auth))
    assert "s3cret" not in dumped and "k-1" not in dumped and "k-2" not in dumped


def test_rotation_replay_and_import_are_recorded(client, api_engine, alice):
    user_id, auth = alice
    secret = client.get("/signing-secret", headers=auth).json()["secret"]
    assert client.post("/signing-secret/rotate", headers=auth).status_code == 200
    rotated = only(client, auth, "signing_secret.rotate")
    assert secret not in json.dumps(rotated) and rotated["object_type"] == "signing_secret"

    schedule = create_schedule(client, auth)
    workspace_id = personal_workspace(api_engine, user_id)
    with Session(api_engine) as session:
        run = Run(
            workspace_id=workspace_id,
            schedule_id=schedule["id"],
            scheduled_for=datetime.now(UTC),
            trigger="schedule",
            status="failed",
            attempt_count=1,
            max_attempts=1,
        )
        session.add(run)
        session.commit()
        run_id = run.id
    assert client.post(f"/runs/{run_id}/replay", headers=auth).status_code == 202
    replay = only(client, auth, "run.replay")
    assert (replay["object_type"], replay["object_id"]) == ("run", str(run_id))
    assert replay["changes"]["status"][0] == "failed"

    document = {
        "version": 1,
        "targets": [{"name": "t", "url": "https://t.example"}],
        "schedules": [{"name": "n", "kind": "cron", "cron": "*/5 * * * *", "target": "t"}],
    }
    assert client.post("/schedules/import", json=document, headers=auth).status_code == 200
    dry = client.post("/schedules/import", json=document, params={"dry_run": "true"}, headers=auth)
    assert dry.status_code == 200
    imported = only(client, auth, "schedule.import")  # a dry run changes nothing: no row
    assert imported["changes"]["targets_created"] == [None, 1]
    assert imported["changes"]["schedules_created"] == [None, 1]
    assert imported["changes"]["schedules_updated"] == [None, 0]


def test_logins_and_password_changes_are_recorded_in_the_personal_workspace(client, api_engine):
    signup = client.post(
        "/auth/signup", json={"email": "dora@example.com", "password": "s3cret-pass"}
    )
    assert signup.status_code == 201, signup.text
    auth = {"Authorization": f"Bearer {signup.json()['token']}", **FROM_CLIENT}

    def login(email: str, password: str) -> int:
        body = {"email": email, "password": password}
        return client.post("/auth/login", json=body, headers=FROM_CLIENT).status_code

    assert login("dora@example.com", "wrong-password") == 401
    assert login("nobody@example.com", "wrong-password") == 401
    assert login("dora@example.com", "s3cret-pass") == 200
    change = {"current_password": "s3cret-pass", "new_password": "another-s3cret-pass"}
    assert client.post("/auth/password", json=change, headers=auth).status_code == 200

    found = events(client, auth, action="auth.")
    assert [e["action"] for e in found] == [
        "auth.password_change",
        "auth.login",
        "auth.login_failed",
    ]
    for event in found:
        assert event["actor"]["email"] == "dora@example.com"
        assert (event["ip"], event["user_agent"]) == (CLIENT_IP, AGENT)
    with Session(api_engine) as session:
        logged = session.exec(select(AuditEvent.actor_email)).all()
    assert "nobody@example.com" not in logged


def test_a_login_with_a_code_is_recorded_once_the_code_is_right(client):
    signup = client.post(
        "/auth/signup", json={"email": "erin@example.com", "password": "pw-s3cret-1"}
    )
    auth = {"Authorization": f"Bearer {signup.json()['token']}", **FROM_CLIENT}
    setup = client.post("/auth/totp/setup", headers=auth)
    assert setup.status_code == 200, setup.text
    if time.time() % 30 > 24:  # codes taken well inside their 30 s step
        time.sleep(30 - time.time() % 30 + 0.1)
    app = pyotp.TOTP(setup.json()["secret"])
    confirm = client.post(
        "/auth/totp/confirm", json={"code": app.at(time.time() - 30)}, headers=auth
    )
    assert confirm.status_code == 200, confirm.text

    def start() -> str:
        body = {"email": "erin@example.com", "password": "pw-s3cret-1"}
        response = client.post("/auth/login", json=body, headers=FROM_CLIENT)
        assert response.json()["error"]["code"] == "totp_required", response.text
        return response.json()["challenge"]

    # The right password alone is no login yet: nothing is recorded.
    challenge = start()
    assert events(client, auth, action="auth.") == []
    wrong = {"challenge": challenge, "code": "000000"}
    assert client.post("/auth/login/totp", json=wrong, headers=FROM_CLIENT).status_code == 401
    right = {"challenge": challenge, "code": app.now()}
    assert client.post("/auth/login/totp", json=right, headers=FROM_CLIENT).status_code == 200

    found = events(client, auth, action="auth.")
    assert [e["action"] for e in found] == ["auth.login", "auth.login_failed"]
    assert all((e["ip"], e["actor"]["email"]) == (CLIENT_IP, "erin@example.com") for e in found)


# --------------------------------------------------------------------------- reading


def seed(engine: Engine, workspace_id: int, count: int, start: datetime) -> None:
    rows = [
        {
            "workspace_id": workspace_id,
            "at": start + timedelta(minutes=n),
            "actor_type": "user" if n % 2 else "api_key",
            "actor_id": 7 if n % 2 else 9,
            "actor_email": "seed@example.com",
            "action": "schedule.update" if n % 3 else "target.update",
            "object_type": "schedule" if n % 3 else "target",
            "object_id": str(n),
            "changes": {"n": [None, n]},
        }
        for n in range(count)
    ]
    with Session(engine) as session:
        session.execute(insert(AuditEvent), rows)
        session.commit()


def test_filters_pages_and_export(client, api_engine, alice):
    user_id, auth = alice
    workspace_id = personal_workspace(api_engine, user_id)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seed(api_engine, workspace_id, 12, start)
    other_id, _ = person(api_engine, "bob@example.com")
    seed(api_engine, personal_workspace(api_engine, other_id), 3, start)

    # Newest first, a page at a time, every event once.
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client.get("/audit-events", params=params, headers=auth).json()
        seen += [int(event["object_id"]) for event in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(11, -1, -1))

    def numbers(**params) -> list[int]:
        return [int(event["object_id"]) for event in events(client, auth, **params)]

    assert numbers(action="target.update") == [9, 6, 3, 0]
    assert numbers(action="schedule.") == [11, 10, 8, 7, 5, 4, 2, 1]
    assert numbers(actor_type="user", actor_id=7) == [11, 9, 7, 5, 3, 1]
    assert numbers(actor_type="api_key") == [10, 8, 6, 4, 2, 0]
    assert numbers(actor_email="SEED@example.com") == list(range(11, -1, -1))
    assert numbers(object_type="target", object_id="6") == [6]
    since, until = (start + timedelta(minutes=3)).isoformat(), start + timedelta(minutes=5)
    assert numbers(since=since, until=until.isoformat()) == [4, 3]

    export = client.get("/audit-events/export", params={"action": "schedule."}, headers=auth)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [int(line["object_id"]) for line in lines] == [11, 10, 8, 7, 5, 4, 2, 1]
    assert set(lines[0]) >= {"id", "at", "actor", "action", "changes", "ip", "user_agent"}
    assert datetime.fromisoformat(lines[0]["at"]) == start + timedelta(minutes=11)
    assert lines[0]["actor"] == {"type": "user", "id": 7, "email": "seed@example.com"}
    assert lines[0]["changes"] == {"n": [None, 11]}


def test_the_export_walks_every_batch_once(client, api_engine, alice):
    user_id, auth = alice
    count = 2 * EXPORT_BATCH + 3
    seed(
        api_engine, personal_workspace(api_engine, user_id), count, datetime(2026, 1, 1, tzinfo=UTC)
    )
    with client.stream("GET", "/audit-events/export", headers=auth) as response:
        assert response.status_code == 200
        ids = [json.loads(line)["id"] for line in response.iter_lines() if line]
    assert len(ids) == count and ids == sorted(set(ids), reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"cursor": "x" * 201}, "cursor"),
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"actor_type": "robot"}, "actor_type"),
        ({"actor_id": "5"}, "actor_type"),
        ({"actor_id": "0", "actor_type": "user"}, "actor_id"),
        ({"action": "Schedule Pause"}, "action"),
        ({"action": "a" * 49}, "action"),
        ({"object_id": "x" * 65}, "object_id"),
        ({"limit": "0"}, "limit"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ({"actor_email": "a\x00@example.com"}, "actor_email"),
        ({"object_id": "7\x00"}, "object_id"),
    ],
)
def test_bad_filters_are_a_422_naming_the_field(client, alice, params, field):
    paged = {"cursor", "limit"} & set(params)  # the export takes every match, no pages
    for path in ("/audit-events",) if paged else ("/audit-events", "/audit-events/export"):
        response = client.get(path, params=params, headers=alice[1])
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field, response.text


def test_only_owners_and_admins_read_the_log(client, api_engine, alice):
    owner_id, _ = alice
    workspace_id = personal_workspace(api_engine, owner_id)
    for role, expected in (("viewer", 403), ("editor", 403), ("admin", 200)):
        member_id, member = person(api_engine, f"{role}@example.com")
        join(api_engine, member_id, workspace_id, role)
        for path in ("/audit-events", "/audit-events/export"):
            response = client.get(path, headers=in_workspace(member, workspace_id))
            assert response.status_code == expected, (role, response.text)
    _, stranger = person(api_engine, "stranger@example.com")
    response = client.get("/audit-events", headers=in_workspace(stranger, workspace_id))
    assert response.status_code == 404, response.text
    key = key_headers(api_engine, workspace_id=workspace_id, creator_id=owner_id, scope="write")
    assert client.get("/audit-events", headers=key).status_code == 403
    assert client.get("/audit-events").status_code == 401


# --------------------------------------------------------------------------- one transaction

FAIL_AUDIT_INSERTS = {
    "sqlite": [
        "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$",
        "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_refused()",
    ],
}
ALLOW_AUDIT_INSERTS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_refused"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_refused ON audit_events",
        "DROP FUNCTION IF EXISTS audit_refused()",
    ],
}


def test_a_change_whose_audit_row_fails_is_rolled_back(client, api_engine, alice):
    _, auth = alice
    schedule = create_schedule(client, auth)
    dialect = api_engine.dialect.name
    with api_engine.begin() as connection:
        for statement in FAIL_AUDIT_INSERTS[dialect]:
            connection.execute(text(statement))
    try:
        edit = client.patch(f"/schedules/{schedule['id']}", json={"name": "renamed"}, headers=auth)
        paused = client.post(f"/schedules/{schedule['id']}/pause", headers=auth)
        created = client.post("/schedules", json=schedule_body(name="second"), headers=auth)
        deleted = client.delete(f"/schedules/{schedule['id']}", headers=auth)
    finally:
        with api_engine.begin() as connection:
            for statement in ALLOW_AUDIT_INSERTS[dialect]:
                connection.execute(text(statement))
    for response in (edit, paused, created, deleted):
        assert response.status_code >= 500, response.text
    with Session(api_engine) as session:
        rows = session.exec(select(Schedule)).all()
    assert [(row.name, row.status) for row in rows] == [("ping", "active")]
    # With the trigger gone, the same edit goes through, and so does its row.
    again = client.patch(f"/schedules/{schedule['id']}", json={"name": "renamed"}, headers=auth)
    assert again.status_code == 200, again.text
    assert only(client, auth, "schedule.update")["changes"]["name"] == ["ping", "renamed"]
