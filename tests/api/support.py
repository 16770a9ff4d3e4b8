"""Helpers for the schedules, targets and runs API tests.

Users are written straight into the database with a fixed bcrypt hash and a
session token: the real POST /auth/signup costs a bcrypt hash (~0.3 s) per user,
which a hundred tests on two databases cannot afford. `tests.api.conftest.signup`
is used where the real flow matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import httpx
import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import Engine
from sqlmodel import Session

from hookboard.domain.tokens import new_api_key, new_session_token
from hookboard.models import ApiKey, Attempt, AuthSession, Run, User
from hookboard.services import crud
from tests.support.api_server import serve_api
from tests.support.databases import empty_all_tables

API_QUEUE = "hb-api-test"  # QUEUE_NAME of the test API server (tests/api/conftest.py)
# bcrypt of "correct horse battery", computed once; nobody logs in with it here.
PASSWORD_HASH = "$2b$04$mU6KxAQcb2vuF4Z.6S8E.uTjMAnFXLROS6AQeRWxkRo426emx2PZ."


def now() -> datetime:
    return datetime.now(UTC)


class NewAccount(NamedTuple):
    user_id: int
    workspace_id: int  # the personal one
    headers: dict[str, str]  # a session's bearer token


def new_user(engine: Engine, email: str) -> tuple[int, dict[str, str]]:
    """(personal workspace id, bearer headers) of a fresh user."""
    account = new_account(engine, email)
    return account.workspace_id, account.headers


def new_account(engine: Engine, email: str) -> NewAccount:
    issued = new_session_token()
    with Session(engine) as session:
        user = User(email=email, password_hash=PASSWORD_HASH)
        session.add(user)
        session.flush()
        workspace = crud.create_workspace(session, name="Personal", owner_id=user.id, personal=True)
        session.add(
            AuthSession(
                user_id=user.id, token_hash=issued.token_hash, expires_at=now() + timedelta(days=1)
            )
        )
        session.commit()
        return NewAccount(user.id, workspace.id, {"Authorization": f"Bearer {issued.token}"})


def headers_for(engine: Engine, email: str) -> dict[str, str]:
    return new_user(engine, email)[1]


def api_key_headers(engine: Engine, workspace_id: int, scope: str) -> dict[str, str]:
    issued = new_api_key()
    with Session(engine) as session:
        session.add(
            ApiKey(
                workspace_id=workspace_id,
                name=f"{scope} key",
                prefix=issued.display_prefix,
                key_hash=issued.token_hash,
                scope=scope,
            )
        )
        session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def schedule_body(**overrides) -> dict:
    body = {
        "name": "ping",
        "kind": "interval",
        "every": 1,
        "unit": "hours",
        "request": {"url": "https://hooks.example.com/ping", "method": "POST"},
    }
    body.update(overrides)
    return body


def create_schedule(client: httpx.Client, auth: dict, **overrides) -> dict:
    response = client.post("/schedules", json=schedule_body(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def create_target(client: httpx.Client, auth: dict, **overrides) -> dict:
    body = {"name": "billing", "url": "https://hooks.example.com/billing", **overrides}
    response = client.post("/targets", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def add_run(
    engine: Engine,
    *,
    workspace_id: int,
    schedule_id: int,
    scheduled_for: datetime | None = None,
    status: str = "succeeded",
    latency_ms: float | None = None,
    attempts: int = 0,
    lag_seconds: float = 1.0,
    trigger: str = "schedule",
) -> int:
    """A run (and its attempts, the first `lag_seconds` after scheduled_for) as the engine
    would have recorded them."""
    scheduled_for = scheduled_for or now()
    with Session(engine) as session:
        run = Run(
            workspace_id=workspace_id,
            schedule_id=schedule_id,
            scheduled_for=scheduled_for,
            trigger=trigger,
            status=status,
            attempt_count=attempts,
            max_attempts=max(attempts, 1),
            status_code=200 if status == "succeeded" else (500 if status == "failed" else None),
            latency_ms=latency_ms,
            error_class={"succeeded": "success", "failed": "http_5xx"}.get(status),
            created_at=scheduled_for,
            finished_at=scheduled_for + timedelta(seconds=2) if attempts else None,
        )
        session.add(run)
        session.flush()
        for number in range(1, attempts + 1):
            session.add(
                Attempt(
                    run_id=run.id,
                    workspace_id=workspace_id,
                    number=number,
                    started_at=scheduled_for + timedelta(seconds=lag_seconds * number),
                    latency_ms=latency_ms,
                    error_class=run.error_class or "success",
                    status_code=run.status_code,
                    request_method="POST",
                    request_url="https://hooks.example.com/ping",
                    request_headers={"Authorization": "***", "webhook-id": f"run_{run.id}"},
                    request_body='{"n": 1}',
                    response_headers={"Set-Cookie": "***", "Content-Type": "text/plain"},
                    response_body="ok",
                )
            )
        session.commit()
        return run.id


def queue_length(redis_url: str) -> int:
    return Queue(API_QUEUE, connection=Redis.from_url(redis_url)).count


def error_of(response: httpx.Response) -> dict:
    return response.json()["error"]


def assert_field_error(response: httpx.Response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["field"] == field, response.text
    return error


# --------------------------------------------------------------------------- a strict server


@pytest.fixture(scope="module")
def strict_api(sqlite_url, redis_url) -> Iterator[str]:
    """An API with the production SSRF policy (private targets refused), on SQLite."""
    with serve_api(
        DATABASE_URL=sqlite_url,
        REDIS_URL=redis_url,
        QUEUE_NAME="hb-api-strict",
        ALLOW_PRIVATE_TARGETS="false",
    ) as base:
        yield base


@pytest.fixture
def strict(strict_api, sqlite_url) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """(client, bearer headers of a fresh user) for the strict API."""
    from hookboard.core.db import make_engine

    engine = make_engine(sqlite_url)
    empty_all_tables(engine)
    headers = headers_for(engine, "strict@example.com")
    with httpx.Client(base_url=strict_api + "/api/v1", timeout=30) as http:
        yield http, headers
    engine.dispose()
