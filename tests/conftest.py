"""Shared fixtures: a real Redis database, a real SQLite file and a real
PostgreSQL database, each migrated with Alembic exactly as production is."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine

from hookboard.core.db import make_engine
from hookboard.core.migrate import upgrade_to_head
from tests.support.databases import (
    empty_all_tables,
    offset_workspace_ids,
    postgres_admin_url,
    postgres_unavailable_reason,
    temporary_postgres_database,
)
from tests.support.redis_server import test_redis_url

# Processes started by tests must never touch the developer's own data.
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="hookboard-test-data-")
# Every test signs up from 127.0.0.1: no per-IP sign-up limit unless a test
# sets one (tests/api/test_signup_limit.py).
os.environ["SIGNUPS_PER_IP_PER_HOUR"] = "0"

# No DNS query leaves the machine: this process and every Python process the
# tests start resolve only loopback names (see support/offline/sitecustomize.py).
_OFFLINE = str(Path(__file__).parent / "support" / "offline")
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_OFFLINE, *filter(None, [os.environ.get("PYTHONPATH")])]
)
sys.path.insert(0, _OFFLINE)
import sitecustomize  # noqa: E402, F401  (applies the guard to this process too)

_postgres_skip_reason: str | None = None
_POSTGRES_SKIPPED = "PostgreSQL tests skipped: "

# Tests that build or run the Reflex app in the project folder: they share its
# .web/ build and .states/, so they must run one after another.
_FRONTEND_TESTS = (
    "tests/e2e/",
    "tests/integration/test_reflex_run.py",
    "tests/integration/test_run_command.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (scripts/test.sh): each test file runs whole in one worker,
    so a module's API server starts once, and the frontend tests all in one worker."""
    from xdist.scheduler import LoadFileScheduling

    class FilesAndFrontend(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return "frontend" if path.startswith(_FRONTEND_TESTS) else path

    return FilesAndFrontend(config, log)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with test_redis_url(tmp_path_factory.mktemp("redis")) as url:
        Redis.from_url(url).flushdb()
        yield url
        Redis.from_url(url).flushdb()


@pytest.fixture
def redis(redis_url) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'hookboard.db'}"
    upgrade_to_head(url)
    offset_workspace_ids(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    global _postgres_skip_reason
    admin_url = postgres_admin_url()
    reason = postgres_unavailable_reason(admin_url)
    if reason:
        _postgres_skip_reason = reason
        pytest.skip(f"{_POSTGRES_SKIPPED}{reason}")
    with temporary_postgres_database(admin_url) as url:
        upgrade_to_head(url)
        offset_workspace_ids(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    empty_all_tables(engine)
    yield engine
    empty_all_tables(engine)
    engine.dispose()


def _skip_reason_from_reports(terminalreporter) -> str | None:
    """The reason as pytest-xdist's workers reported it (they skip, not this process)."""
    for report in terminalreporter.stats.get("skipped", []):
        message = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if message.startswith(f"Skipped: {_POSTGRES_SKIPPED}"):
            return message.removeprefix(f"Skipped: {_POSTGRES_SKIPPED}")
    return None


def pytest_terminal_summary(terminalreporter):
    reason = _postgres_skip_reason or _skip_reason_from_reports(terminalreporter)
    if reason:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL tests were SKIPPED: {reason}. Set TEST_DATABASE_URL to run them.",
            yellow=True,
            bold=True,
        )
