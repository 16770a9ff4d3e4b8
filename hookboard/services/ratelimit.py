"""Fixed-window counters in Redis: API rate limits and failed-login throttling.

A `Limit` is a bucket ("key:12", "workspace:3", "login-ip:10.0.0.1") allowed `limit`
hits per `window_seconds`. Each window is its own Redis key,
`{QUEUE_NAME}:ratelimit:{bucket}:{window number}`, left to expire with the
window. A hit checks all its buckets and counts in all of them, or, when one is
used up, in none (one Lua script, atomic): a request refused by its key's limit
does not eat into its user's. Throttles of costly attempts (logins, sign-ups)
hit before the work, so concurrent attempts cannot all pass one check; an
attempt that turns out not to count gives its hit back with `release`.

Availability beats limiting: when Redis cannot be reached every call answers
None ("no verdict"), the caller serves the request, a warning is logged once
per outage and Redis is left alone for a few seconds, so a dead Redis costs
one short timeout now and then rather than one per request.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from redis import Redis
from redis.exceptions import RedisError

from hookboard.settings import Settings, get_settings

log = logging.getLogger("hookboard.ratelimit")

# Limits sit on the request path: a slow Redis must not slow every request.
REDIS_TIMEOUT_SECONDS = 0.5
# After a failure, requests go unlimited this long before Redis is tried again.
RETRY_REDIS_AFTER_SECONDS = 5.0


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window_seconds: float


@dataclass(frozen=True)
class Usage:
    """One bucket's count in the current window."""

    limit: int
    count: int
    reset_at: float  # Unix time at which the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exhausted(self) -> bool:
        """No hit left in this window."""
        return self.count >= self.limit

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.reset_at - now))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    usages: list[Usage]  # after the hit when allowed, as they stand when not
    at: float = 0.0  # the clock when counted: `release` finds the same windows

    @property
    def report(self) -> Usage:
        """The usage to tell the client: what refused the hit, else the least left."""
        if not self.allowed:
            refusing = [usage for usage in self.usages if usage.exhausted]
            return max(refusing, key=lambda usage: usage.reset_at)
        return min(self.usages, key=lambda usage: (usage.remaining, usage.limit))


# KEYS: the buckets' window keys; ARGV: their limits, then their TTLs.
_HIT_SCRIPT = """
local n = #KEYS
local counts = {}
local allowed = 1
for i = 1, n do
  counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if counts[i] >= tonumber(ARGV[i]) then allowed = 0 end
end
if allowed == 1 then
  for i = 1, n do
    counts[i] = redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], ARGV[n + i])
  end
end
table.insert(counts, 1, allowed)
return counts
"""


# KEYS: window keys to take one hit back from; never below zero, nor a key recreated.
_RELEASE_SCRIPT = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
"""


class RateLimiter:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        clock: Callable[[], float] = time.time,
        retry_redis_after: float = RETRY_REDIS_AFTER_SECONDS,
    ):
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.retry_redis_after = retry_redis_after
        self._hit_script = None
        self._release_script = None
        self._lock = threading.Lock()
        self._redis_down = False
        self._skip_until = 0.0

    def _window(self, limit: Limit, now: float) -> tuple[str, float]:
        number = math.floor(now / limit.window_seconds)
        key = f"{self.prefix}:ratelimit:{limit.bucket}:{number}"
        return key, (number + 1) * limit.window_seconds

    def hit(self, *limits: Limit) -> Verdict | None:
        """One hit in every bucket if none is used up; None without Redis."""
        if not limits:
            return Verdict(True, [])
        now = self.clock()
        windows = [self._window(limit, now) for limit in limits]
        args = [limit.limit for limit in limits]
        args += [math.ceil(limit.window_seconds) + 1 for limit in limits]
        keys = [key for key, _ in windows]

        def run():
            if self._hit_script is None:  # EVALSHA, loading the script when Redis lacks it
                self._hit_script = self.redis.register_script(_HIT_SCRIPT)
            return self._hit_script(keys=keys, args=args, client=self.redis)

        result = self._guarded(run)
        if result is None:
            return None
        allowed, *counts = result
        usages = [
            Usage(limit.limit, int(count), reset_at)
            for limit, count, (_, reset_at) in zip(limits, counts, windows, strict=True)
        ]
        return Verdict(bool(allowed), usages, at=now)

    def release(self, verdict: Verdict | None, *limits: Limit) -> None:
        """Give back an allowed hit (`verdict`) in these of its buckets."""
        if verdict is None or not verdict.allowed or not limits:
            return
        keys = [self._window(limit, verdict.at)[0] for limit in limits]

        def run():
            if self._release_script is None:
                self._release_script = self.redis.register_script(_RELEASE_SCRIPT)
            return self._release_script(keys=keys, client=self.redis)

        self._guarded(run)

    def peek(self, *limits: Limit) -> list[Usage] | None:
        """Usage of every bucket without counting a hit; None without Redis."""
        now = self.clock()
        windows = [self._window(limit, now) for limit in limits]
        values = self._guarded(lambda: self.redis.mget([key for key, _ in windows]))
        if values is None:
            return None
        return [
            Usage(limit.limit, int(value or 0), reset_at)
            for limit, value, (_, reset_at) in zip(limits, values, windows, strict=True)
        ]

    def clear(self, *limits: Limit) -> None:
        """Forget the current window's hits of these buckets."""
        now = self.clock()
        keys = [self._window(limit, now)[0] for limit in limits]
        self._guarded(lambda: self.redis.delete(*keys))

    def _guarded(self, operation):
        if time.monotonic() < self._skip_until:
            return None
        try:
            result = operation()
        except (RedisError, OSError) as error:
            with self._lock:
                self._skip_until = time.monotonic() + self.retry_redis_after
                first = not self._redis_down
                self._redis_down = True
            if first:
                # The error's type only: its text could carry connection details.
                log.warning(
                    "rate limits are off: Redis is unavailable (%s); serving requests unlimited",
                    type(error).__name__,
                )
            return None
        if self._redis_down:
            with self._lock:
                recovered, self._redis_down = self._redis_down, False
            if recovered:
                log.warning("rate limits are back on: Redis answers again")
        return result


def rate_limit_headers(usage: Usage) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(usage.limit),
        "X-RateLimit-Remaining": str(usage.remaining),
        "X-RateLimit-Reset": str(math.ceil(usage.reset_at)),
    }


def api_limits(settings: Settings, *, workspace_id: int, credential: str) -> list[Limit]:
    """Per key or session (`credential`, e.g. "key:12") and per workspace, per minute."""
    limits = []
    if settings.rate_limit_per_minute > 0:
        limits.append(Limit(credential, settings.rate_limit_per_minute, 60))
    if settings.user_rate_limit_per_minute > 0:
        limits.append(Limit(f"workspace:{workspace_id}", settings.user_rate_limit_per_minute, 60))
    return limits


def login_failure_limits(
    settings: Settings, *, email: str, client_ip: str | None
) -> tuple[Limit, Limit | None]:
    """(per email, per client IP) failed-login buckets; the email is hashed, not stored."""
    window = settings.login_failure_window_minutes * 60
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    by_email = Limit(f"login-email:{digest}", settings.login_max_failures_per_email, window)
    by_ip = (
        Limit(f"login-ip:{client_ip}", settings.login_max_failures_per_ip, window)
        if client_ip
        else None
    )
    return by_email, by_ip


def signup_limit(settings: Settings, *, client_ip: str | None) -> Limit | None:
    """Sign-up attempts per client IP per hour: each costs a bcrypt hash."""
    if not client_ip or settings.signups_per_ip_per_hour <= 0:
        return None
    return Limit(f"signup-ip:{client_ip}", settings.signups_per_ip_per_hour, 3600)


@lru_cache
def get_limiter() -> RateLimiter:
    """The process's limiter, on REDIS_URL, with keys under QUEUE_NAME."""
    settings = get_settings()
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return RateLimiter(redis, settings.queue_name)
