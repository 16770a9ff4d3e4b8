"""API tests talk to a real server over HTTP: the FastAPI app served by granian
on 127.0.0.1, against a real database (SQLite and PostgreSQL) and Redis.

One server per module and database kind; tables and the test Redis database
are emptied before every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from redis import Redis

from hookboard.core.db import make_engine
from tests.support.api_server import serve_api
from tests.support.databases import empty_all_tables


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api_server(request, redis_url) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a running API."""
    database_url = request.getfixturevalue(f"{request.param}_url")
    settings = getattr(request.module, "API_SETTINGS", {})
    with serve_api(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        QUEUE_NAME="hb-api-test",
        ALLOW_PRIVATE_TARGETS="true",
        **settings,
    ) as base:
        yield base, database_url


@pytest.fixture
def api_engine(api_server):
    engine = make_engine(api_server[1])
    empty_all_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def client(api_server, api_engine, redis_url) -> Iterator[httpx.Client]:
    Redis.from_url(redis_url).flushdb()
    with httpx.Client(base_url=api_server[0] + "/api/v1", timeout=30) as http:
        yield http


def signup(client: httpx.Client, email: str = "alice@example.com", password: str = "s3cret-pass"):
    """A new user's bearer headers."""
    response = client.post("/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
