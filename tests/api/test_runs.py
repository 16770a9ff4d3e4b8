"""/runs over real HTTP, on SQLite and PostgreSQL, and one delivery through a real worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from hookboard.models import Run
from hookboard.services import runs_query
from tests.api.support import (
    API_QUEUE,
    add_run,
    assert_field_error,
    create_schedule,
    error_of,
    new_user,
    queue_length,
)
from tests.support.engine import EngineProcesses, wait_until
from tests.support.receiver import Receiver


@pytest.fixture
def alice(client, api_engine):
    workspace_id, headers = new_user(api_engine, "alice@example.com")
    schedule = create_schedule(client, headers, paused=True)
    return workspace_id, headers, schedule["id"]


def walk(client, headers, **params) -> tuple[list[int], int]:
    seen, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/runs", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages


def test_the_cursor_walk_returns_every_run_once_newest_first(client, api_engine, alice):
    workspace_id, headers, schedule_id = alice
    base = datetime(2030, 1, 1, tzinfo=UTC)
    ids = [
        add_run(
            api_engine,
            workspace_id=workspace_id,
            schedule_id=schedule_id,
            scheduled_for=base + timedelta(minutes=n),
        )
        for n in range(8)
    ]
    bob_id, bob = new_user(api_engine, "bob@example.com")
    bob_schedule = create_schedule(client, bob)["id"]
    add_run(api_engine, workspace_id=bob_id, schedule_id=bob_schedule)
    seen, pages = walk(client, headers, limit=3)
    assert seen == ids[::-1]
    assert pages == 3
    assert walk(client, headers)[0] == ids[::-1]


def test_filters(client, api_engine, alice):
    workspace_id, headers, schedule_id = alice
    other_schedule = create_schedule(client, headers, name="other")["id"]
    base = datetime(2030, 1, 1, tzinfo=UTC)
    failed = add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule_id,
        scheduled_for=base,
        status="failed",
    )
    ok = add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule_id,
        scheduled_for=base + timedelta(hours=1),
    )
    elsewhere = add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=other_schedule,
        scheduled_for=base + timedelta(hours=2),
    )
    assert walk(client, headers, schedule_id=schedule_id)[0] == [ok, failed]
    assert walk(client, headers, status="failed")[0] == [failed]
    assert walk(client, headers, since="2030-01-01T01:00:00Z")[0] == [elsewhere, ok]
    assert walk(client, headers, until="2030-01-01T01:00:00+00:00")[0] == [ok, failed]
    assert walk(
        client, headers, since="2030-01-01T00:30:00Z", until="2030-01-01T01:30:00Z", limit=1
    )[0] == [ok]
    # Without an offset, a time is UTC.
    assert walk(client, headers, until="2030-01-01T00:00:00")[0] == [failed]
    assert walk(client, headers, schedule_id=2**62)[0] == []
    for params, field in (
        ({"status": "exploded"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"since": "1700000000"}, "since"),  # not read as Unix time
        ({"until": "17e8"}, "until"),
        ({"limit": 201}, "limit"),
        ({"cursor": "nope"}, "cursor"),
        ({"schedule_id": "x"}, "schedule_id"),
    ):
        assert_field_error(client.get("/runs", params=params, headers=headers), field)
    # A schedules cursor is no runs cursor.
    for n in range(2):
        create_schedule(client, headers, name=f"more-{n}")
    schedules_cursor = client.get("/schedules", params={"limit": 1}, headers=headers).json()[
        "next_cursor"
    ]
    response = client.get("/runs", params={"cursor": schedules_cursor}, headers=headers)
    assert_field_error(response, "cursor")


def test_a_run_with_its_attempts(client, api_engine, alice):
    workspace_id, headers, schedule_id = alice
    run_id = add_run(
        api_engine,
        workspace_id=workspace_id,
        schedule_id=schedule_id,
        status="failed",
        latency_ms=12.5,
        attempts=2,
    )
    response = client.get(f"/runs/{run_id}", headers=headers)
    assert response.status_code == 200, response.text
    run = response.json()
    assert (run["id"], run["schedule_id"], run["status"]) == (run_id, schedule_id, "failed")
    assert run["attempt_count"] == 2 and run["status_code"] == 500
    assert [attempt["number"] for attempt in run["attempts"]] == [1, 2]
    attempt = run["attempts"][0]
    assert attempt["error_class"] == "http_5xx" and attempt["latency_ms"] == 12.5
    assert attempt["request"]["headers"]["Authorization"] == "***"
    assert attempt["request"]["url"] == "https://hooks.example.com/ping"
    assert attempt["response"] == {
        "status_code": 500,
        "headers": {"Set-Cookie": "***", "Content-Type": "text/plain"},
        "body_excerpt": "ok",
    }
    listed = client.get("/runs", headers=headers).json()["items"][0]
    assert listed == {key: value for key, value in run.items() if key != "attempts"}


def test_replay_a_failed_run(client, api_engine, redis_url, alice):
    workspace_id, headers, schedule_id = alice
    failed = add_run(
        api_engine, workspace_id=workspace_id, schedule_id=schedule_id, status="failed", attempts=3
    )
    succeeded = add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule_id, attempts=1)
    response = client.post(f"/runs/{failed}/replay", headers=headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"run_id": failed}
    assert queue_length(redis_url) == 1
    with Session(api_engine) as session:
        run = session.get(Run, failed)
        assert (run.status, run.max_attempts) == ("pending", 4)
    for run_id in (failed, succeeded):  # pending now, and succeeded
        response = client.post(f"/runs/{run_id}/replay", headers=headers)
        assert response.status_code == 409
        assert error_of(response)["code"] == "not_replayable"
    assert queue_length(redis_url) == 1


def test_the_runs_page_query_walks_an_index_without_sorting(api_engine):
    """A page a million rows deep costs what the first one costs: the plan reads
    (workspace_id, id) or (schedule_id, id) backwards and never sorts or offsets."""
    queries = [
        runs_query(workspace_id=1, before_id=10**6, limit=51),
        runs_query(workspace_id=None, schedule_id=7, before_id=10**6, limit=51),
        runs_query(
            workspace_id=1, status="failed", since=datetime(2030, 1, 1, tzinfo=UTC), limit=51
        ),
    ]
    # Which of the two a planner picks depends on its statistics; either keeps the order.
    indexes = ("ix_runs_workspace_id_desc", "ix_runs_schedule_id_desc")
    with api_engine.connect() as connection:
        dialect = connection.dialect.name
        for query, params in queries:
            assert query._offset_clause is None
            compiled = query.params(params).compile(
                dialect=postgresql.dialect() if dialect == "postgresql" else sqlite.dialect(),
                compile_kwargs={"literal_binds": True},
            )
            if dialect == "postgresql":
                connection.execute(text("SET enable_seqscan = off"))
                rows = connection.execute(text(f"EXPLAIN {compiled}"))
                plan = "\n".join(row[0] for row in rows)
                assert "Sort" not in plan, plan
            else:
                rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                plan = "\n".join(str(row[-1]) for row in rows)
                assert "TEMP B-TREE" not in plan, plan
            assert any(index in plan for index in indexes), plan


def test_run_now_and_replay_through_a_real_worker(client, api_server, api_engine, redis_url, alice):
    """Trigger -> a real worker delivers it; a failed run replayed -> delivered again
    under the same webhook-id."""
    _user_id, headers, _ = alice
    with (
        Receiver(status=500) as receiver,
        EngineProcesses(api_server[1], redis_url) as processes,
    ):
        schedule = create_schedule(
            client,
            headers,
            name="e2e",
            paused=True,
            request={"url": receiver.url + "/hook", "body": '{"n": 1}'},
            retry={"max_attempts": 1},
        )
        processes.worker(QUEUE_NAME=API_QUEUE)
        run_id = client.post(f"/schedules/{schedule['id']}/trigger", headers=headers).json()[
            "run_id"
        ]

        def run_in(expected):
            # Polled in the database: polling the API would eat the rate limit.
            def check():
                with Session(api_engine) as session:
                    return session.get(Run, run_id).status == expected

            wait_until(check, timeout=60, interval=0.2)
            return client.get(f"/runs/{run_id}", headers=headers).json()

        failed = run_in("failed")
        assert [a["status_code"] for a in failed["attempts"]] == [500]
        receiver.set_response(status=200)
        assert client.post(f"/runs/{run_id}/replay", headers=headers).status_code == 202
        done = run_in("succeeded")
        assert [a["number"] for a in done["attempts"]] == [1, 2]
        first, second = receiver.wait_for(2)
        with Session(api_engine) as session:
            key = session.get(Run, run_id).delivery_key
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == key
        assert second.body == b'{"n": 1}'
