"""The one place a caller's request is counted against its per-minute limits.

Every REST request (api/deps.py) and every dashboard event that acts for a
signed-in user (ui/state.py) calls `count_request`, so a user gets the same
RATE_LIMIT_PER_MINUTE (per API key or session) and USER_RATE_LIMIT_PER_MINUTE
(per workspace) whichever door they use. Without Redis nothing is counted
(hookboard.services.ratelimit fails open).
"""

from __future__ import annotations

from hookboard.services.errors import ServiceError
from hookboard.services.ratelimit import (
    RateLimiter,
    api_limits,
    get_limiter,
    rate_limit_headers,
)
from hookboard.settings import Settings, get_settings


class RateLimited(ServiceError):
    """Past a per-minute limit; `headers` are the X-RateLimit-* and Retry-After to send."""

    def __init__(self, limit: int, retry_after: int, headers: dict[str, str]):
        super().__init__(
            f"rate limit of {limit} requests per minute exceeded; retry in {retry_after} s"
        )
        self.retry_after = retry_after
        self.headers = {**headers, "Retry-After": str(retry_after)}


def credential_of(*, api_key_id: int | None = None, session_id: int | None = None) -> str:
    """The bucket of one credential: "key:12" for an API key, "session:7" for a session."""
    return f"key:{api_key_id}" if api_key_id is not None else f"session:{session_id}"


def count_request(
    *,
    workspace_id: int,
    credential: str,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> dict[str, str]:
    """Count one request; its X-RateLimit-* headers, or RateLimited past a limit."""
    limits = api_limits(
        settings or get_settings(), workspace_id=workspace_id, credential=credential
    )
    if not limits:
        return {}
    limiter = limiter or get_limiter()
    verdict = limiter.hit(*limits)
    if verdict is None:  # Redis unavailable: serve the request
        return {}
    usage = verdict.report
    headers = rate_limit_headers(usage)
    if not verdict.allowed:
        raise RateLimited(usage.limit, usage.retry_after(limiter.clock()), headers)
    return headers
