"""Per key/session and per user rate limits over real HTTP, on both databases:
X-RateLimit-* headers, 429 `rate_limited` with Retry-After, and failing open
when Redis is down."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from hookboard.core.db import make_engine
from tests.api.test_api_keys import bearer, create_key, seeded_user
from tests.support.api_server import serve_api
from tests.support.databases import empty_all_tables
from tests.support.processes import free_port

API_SETTINGS = {"RATE_LIMIT_PER_MINUTE": "5", "USER_RATE_LIMIT_PER_MINUTE": "8"}


def fresh_window(needed_seconds: float = 5) -> None:
    """Windows are fixed minutes: don't let a test straddle the boundary."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.05)


def limit_headers(response: httpx.Response) -> tuple[int, int, int]:
    return (
        int(response.headers["x-ratelimit-limit"]),
        int(response.headers["x-ratelimit-remaining"]),
        int(response.headers["x-ratelimit-reset"]),
    )


def test_responses_count_down_the_limit(client, api_engine):
    headers = seeded_user(api_engine)
    fresh_window()
    window_end = math.ceil((time.time() // 60 + 1) * 60)
    seen = [limit_headers(client.get("/api-keys", headers=headers)) for _ in range(2)]
    assert seen == [(5, 4, window_end), (5, 3, window_end)]
    # Created (201) and empty (204) answers carry them too.
    created = client.post("/api-keys", json={"name": "k", "scope": "read"}, headers=headers)
    assert limit_headers(created)[:2] == (5, 2)
    deleted = client.delete(f"/api-keys/{created.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    assert limit_headers(deleted)[:2] == (5, 1)
    # The runs log builds its own response (hookboard.api.model_response): it counts too.
    listed = client.get("/runs", headers=headers)
    assert listed.json() == {"items": [], "next_cursor": None}
    assert limit_headers(listed)[:2] == (5, 0)


def test_past_the_limit_it_is_429_with_retry_after(client, api_engine):
    alice = seeded_user(api_engine, "alice@example.com")
    bob = seeded_user(api_engine, "bob@example.com")
    fresh_window()
    for _ in range(5):
        assert client.get("/api-keys", headers=alice).status_code == 200
    response = client.get("/api-keys", headers=alice)
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("rate_limited", None)
    assert "5 requests per minute" in error["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert limit_headers(response)[:2] == (5, 0)
    # Write routes are limited the same way; other users are not affected.
    assert client.post("/signing-secret/rotate", headers=alice).status_code == 429
    assert client.get("/api-keys", headers=bob).status_code == 200


def test_the_user_limit_spans_all_keys(client, api_engine):
    session = seeded_user(api_engine)
    fresh_window()
    first = bearer(create_key(client, session, "a")["key"])  # user: 1
    second = bearer(create_key(client, session, "b")["key"])  # user: 2
    for _ in range(5):  # user: 7
        assert client.get("/api-keys", headers=first).status_code == 200
    assert client.get("/api-keys", headers=first).status_code == 429  # the key's 5
    # The user's 8th request: allowed, with nothing left for the user.
    last = client.get("/api-keys", headers=second)
    assert last.status_code == 200
    assert limit_headers(last)[:2] == (8, 0)
    over = client.get("/api-keys", headers=second)
    assert over.status_code == 429
    assert limit_headers(over)[:2] == (8, 0)


def test_unauthenticated_requests_carry_no_limit_headers(client):
    response = client.get("/api-keys")
    assert response.status_code == 401
    assert "x-ratelimit-limit" not in response.headers


@pytest.fixture
def sqlite_engine(sqlite_url):
    engine = make_engine(sqlite_url)
    empty_all_tables(engine)
    yield engine
    engine.dispose()


def test_without_redis_requests_are_served_unlimited(sqlite_url, sqlite_engine):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    headers = seeded_user(sqlite_engine)
    env = {"DATABASE_URL": sqlite_url, "REDIS_URL": dead_redis, "RATE_LIMIT_PER_MINUTE": "1"}
    with (
        serve_api(**env) as base,
        httpx.Client(base_url=base + "/api/v1", timeout=30) as http,
    ):
        for _ in range(3):
            response = http.get("/api-keys", headers=headers)
            assert response.status_code == 200, response.text
            assert "x-ratelimit-limit" not in response.headers
        # Login throttling fails open too: a wrong password is still just a 401.
        wrong = http.post("/auth/login", json={"email": "alice@example.com", "password": "nope"})
        assert wrong.status_code == 401
