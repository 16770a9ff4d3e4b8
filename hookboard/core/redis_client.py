"""The Redis connection shared by a process (queues, rate limits, wake-ups)."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis

from hookboard.settings import get_settings


def make_redis(url: str) -> Redis:
    # Short timeouts: a dead Redis must surface as an error, never a hang.
    return Redis.from_url(
        url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30
    )


@lru_cache
def get_redis() -> Redis:
    return make_redis(get_settings().redis_url)
