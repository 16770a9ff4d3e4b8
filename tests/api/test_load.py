"""Many concurrent clients never get a 5xx.

100 clients at once is more than the connection pool (30) and the thread pool
(40) together could once serve: requests parked between thread hops held every
connection while the threads waited for one, and answered 500 after the pool's
30 s timeout. Admission control (hookboard/api/middleware/admission.py) and read-only
transactions on SQLite keep all of them answered.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import text

from tests.api.support import add_run, api_key_headers, new_user, schedule_body

CLIENTS = 100
REQUESTS_PER_CLIENT = 2
API_SETTINGS = {"RATE_LIMIT_PER_MINUTE": "0", "USER_RATE_LIMIT_PER_MINUTE": "0"}


async def _client_session(base: str, auth: dict, number: int) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as http:
        for step in range(REQUESTS_PER_CLIENT):
            if (number + step) % 4 == 0:
                body = schedule_body(name=f"load {number}-{step}")
                response = await http.post("/schedules", json=body)
            elif (number + step) % 4 == 1:
                response = await http.get("/schedules", params={"limit": 20})
            else:
                response = await http.get("/runs", params={"limit": 50})
            statuses.append(response.status_code)
    return statuses


async def _storm(base: str, credentials: list[dict]) -> Counter:
    sessions = [
        _client_session(base, credentials[number % len(credentials)], number)
        for number in range(CLIENTS)
    ]
    return Counter(status for result in await asyncio.gather(*sessions) for status in result)


def test_concurrent_clients_get_no_server_errors(client, api_server, api_engine):
    workspace_id, session_auth = new_user(api_engine, "load@example.com")
    schedule = client.post("/schedules", json=schedule_body(), headers=session_auth).json()
    for _ in range(60):
        add_run(api_engine, workspace_id=workspace_id, schedule_id=schedule["id"], attempts=1)
    # A write key as well: its first use writes last_used_at beside the reads.
    credentials = [session_auth, api_key_headers(api_engine, workspace_id, "write")]

    statuses = asyncio.run(_storm(api_server[0] + "/api/v1", credentials))

    assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
    assert set(statuses) <= {200, 201}, statuses
    runs = client.get("/runs", params={"limit": 1}, headers=session_auth).json()
    assert runs["items"], "the seeded runs are still listed"


def _sessions(api_engine) -> int:
    """Sessions PostgreSQL has counted for this database (pg_stat_database)."""
    with api_engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return connection.execute(
            text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        ).scalar_one()


def test_steady_load_reuses_pooled_connections(client, api_server, api_engine):
    """The pool holds every connection the admitted requests use, so storm after
    storm opens no new PostgreSQL backend (each costs a fork and an exit)."""
    if not api_server[1].startswith("postgresql"):
        pytest.skip("PostgreSQL counts sessions; SQLite has none")
    _, session_auth = new_user(api_engine, "steady@example.com")
    credentials = [session_auth]
    base = api_server[0] + "/api/v1"
    asyncio.run(_storm(base, credentials))  # warm-up: the pool fills
    time.sleep(1)  # a backend reports its session when it ends
    before = _sessions(api_engine)
    for _ in range(3):
        statuses = asyncio.run(_storm(base, credentials))
        assert set(statuses) <= {200, 201}, statuses
    time.sleep(1)
    opened = _sessions(api_engine) - before
    assert opened <= 2, f"{opened} PostgreSQL sessions opened under steady load"
