"""Fixtures of the engine's fault and outage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import PrivateRedis


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def engine_redis_url(tmp_path_factory) -> Iterator[str]:
    """A private Redis shared by this module's tests (each uses a queue of its own)."""
    server = PrivateRedis(tmp_path_factory.mktemp("engine-faults-redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.kill()
