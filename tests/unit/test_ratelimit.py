"""The Redis fixed-window limiter against a real Redis, with a fake clock; and
failing open, logged once, when Redis is unreachable."""

from __future__ import annotations

import logging

import pytest
from redis import Redis

from hookboard.api.middleware.client_ip import forwarded_client
from hookboard.services.ratelimit import (
    Limit,
    RateLimiter,
    Usage,
    Verdict,
    api_limits,
    login_failure_limits,
    rate_limit_headers,
)
from hookboard.settings import Settings
from tests.support.processes import free_port

PREFIX = "hb-unit-ratelimit"


class Clock:
    def __init__(self, now: float = 1_000_020.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def limiter(redis, clock):
    return RateLimiter(redis, PREFIX, clock=clock)


def test_hits_count_up_to_the_limit_then_are_refused(limiter, clock):
    limit = Limit("key:1", 3, 60)
    verdicts = [limiter.hit(limit) for _ in range(5)]
    assert [(v.allowed, v.report.count, v.report.remaining) for v in verdicts] == [
        (True, 1, 2),
        (True, 2, 1),
        (True, 3, 0),
        (False, 3, 0),  # refused hits are not counted
        (False, 3, 0),
    ]
    usage = verdicts[-1].report
    assert usage.reset_at == 1_000_020 // 60 * 60 + 60
    assert usage.retry_after(clock.now) == usage.reset_at - clock.now


def test_a_new_window_starts_from_zero(limiter, clock):
    limit = Limit("key:1", 1, 60)
    assert limiter.hit(limit).allowed
    assert not limiter.hit(limit).allowed
    clock.now += 60
    assert limiter.hit(limit).report.count == 1


def test_windows_expire_in_redis(limiter, redis):
    limiter.hit(Limit("key:1", 5, 60))
    [key] = redis.keys(f"{PREFIX}:ratelimit:key:1:*")
    assert 0 < redis.ttl(key) <= 61


def test_a_hit_counts_in_every_bucket_or_in_none(limiter):
    key, other_key, user = Limit("key:1", 2, 60), Limit("key:2", 5, 60), Limit("user:1", 4, 60)
    assert limiter.hit(key, user).allowed
    assert limiter.hit(key, user).allowed
    refused = limiter.hit(key, user)  # the key's limit: the user's count is untouched
    assert not refused.allowed
    assert [u.count for u in refused.usages] == [2, 2]
    assert refused.report.limit == 2
    allowed = limiter.hit(other_key, user)
    assert [u.count for u in allowed.usages] == [1, 3]
    assert allowed.report.limit == 4  # 1 left of 4 is tighter than 4 left of 5
    assert limiter.hit(other_key, user).report.remaining == 0
    refused = limiter.hit(other_key, user)
    assert (refused.allowed, refused.report.limit) == (False, 4)


def test_the_refusal_reported_is_the_one_that_lasts_longest():
    verdict = Verdict(False, [Usage(5, 5, 100), Usage(8, 8, 120), Usage(9, 1, 200)])
    assert verdict.report.reset_at == 120


def test_peek_does_not_count_and_clear_forgets(limiter):
    limit = Limit("login-ip:10.0.0.1", 2, 900)
    assert limiter.peek(limit)[0].count == 0
    limiter.hit(limit)
    limiter.hit(limit)
    assert limiter.peek(limit)[0].exhausted
    assert limiter.peek(limit)[0].count == 2
    limiter.clear(limit)
    assert limiter.peek(limit)[0].count == 0


def test_headers():
    assert rate_limit_headers(Usage(limit=600, count=601, reset_at=1_000_060.0)) == {
        "X-RateLimit-Limit": "600",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1000060",
    }


def test_limits_from_settings():
    settings = Settings(rate_limit_per_minute=10, user_rate_limit_per_minute=0)
    assert api_limits(settings, workspace_id=7, credential="key:3") == [Limit("key:3", 10, 60)]
    assert (
        api_limits(
            Settings(rate_limit_per_minute=0, user_rate_limit_per_minute=0),
            workspace_id=7,
            credential="key:3",
        )
        == []
    )
    by_email, by_ip = login_failure_limits(Settings(), email="alice@example.com", client_ip="::1")
    assert "alice" not in by_email.bucket  # hashed
    assert (by_email.limit, by_email.window_seconds) == (10, 900)
    assert by_ip == Limit("login-ip:::1", 50, 900)
    assert login_failure_limits(Settings(), email="a@b.c", client_ip=None)[1] is None


def test_without_redis_it_fails_open_and_logs_once(redis, clock, caplog):
    dead = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5, socket_timeout=0.5
    )
    limiter = RateLimiter(dead, PREFIX, clock=clock, retry_redis_after=0)
    limit = Limit("key:1", 1, 60)
    with caplog.at_level(logging.WARNING, logger="hookboard.ratelimit"):
        for _ in range(3):
            assert limiter.hit(limit) is None
            assert limiter.peek(limit) is None
            limiter.clear(limit)
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert "Redis is unavailable (ConnectionError)" in warnings[0]

        limiter.redis = redis  # Redis is back
        assert limiter.hit(limit).report.count == 1
        assert not limiter.hit(limit).allowed
        assert [r.getMessage() for r in caplog.records][1:] == [
            "rate limits are back on: Redis answers again"
        ]


def test_after_a_failure_redis_is_left_alone_for_a_while(redis, clock):
    calls = []

    class Failing:
        def mget(self, keys):
            calls.append(keys)
            raise ConnectionError("down")

    limiter = RateLimiter(Failing(), PREFIX, clock=clock, retry_redis_after=60)
    limit = Limit("key:1", 1, 60)
    assert limiter.peek(limit) is None
    assert limiter.peek(limit) is None
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("header", "hops", "expected"),
    [
        ("203.0.113.5", 0, None),  # no trusted proxy: the header is ignored
        ("203.0.113.5", 1, "203.0.113.5"),
        ("198.51.100.7, 203.0.113.5", 1, "203.0.113.5"),  # the left part is the client's own
        ("198.51.100.7, 203.0.113.5", 2, "198.51.100.7"),
        ("203.0.113.5", 2, None),  # fewer addresses than proxies: not from the chain
        (" , ", 1, None),
        ("", 1, None),
    ],
)
def test_the_client_address_behind_trusted_proxies(header, hops, expected):
    assert forwarded_client(header, hops) == expected


def test_release_gives_a_hit_back_in_the_window_it_was_counted_in(limiter, clock):
    limit = Limit("login-ip:10.0.0.2", 2, 60)
    first = limiter.hit(limit)
    limiter.hit(limit)
    assert not limiter.hit(limit).allowed
    clock.now += 1
    limiter.release(first, limit)
    assert limiter.peek(limit)[0].count == 1
    # A refused hit and a missing verdict (Redis down) have nothing to give back;
    # a count never goes below zero.
    limiter.release(Verdict(False, [], at=clock.now), limit)
    limiter.release(None, limit)
    limiter.release(first, limit)
    limiter.release(first, limit)
    assert limiter.peek(limit)[0].count == 0
