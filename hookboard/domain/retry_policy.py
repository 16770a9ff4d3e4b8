"""How long to wait before the next attempt: pure, seeded by the caller."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff: str = "exponential"
    base_delay_seconds: float = 10.0
    max_delay_seconds: float = 3600.0
    jitter: bool = True


def backoff_delay(policy: RetryPolicy, failed_attempts: int) -> float:
    """The delay after the `failed_attempts`-th failure, before jitter, capped."""
    base = policy.base_delay_seconds
    if policy.backoff == "fixed":
        delay = base
    elif policy.backoff == "linear":
        delay = base * failed_attempts
    else:
        # min() first keeps 2**n from overflowing a float for large n.
        delay = base * 2 ** min(failed_attempts - 1, 62)
    return min(delay, policy.max_delay_seconds)


def retry_delay(
    policy: RetryPolicy,
    failed_attempts: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next attempt.

    A server's Retry-After wins over the backoff (capped at the max delay).
    Jitter spreads the backoff over [delay/2, delay] ("equal jitter"), so
    many runs failing together do not come back together.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.max_delay_seconds)
    delay = backoff_delay(policy, failed_attempts)
    if policy.jitter:
        delay = delay / 2 + (rng or random).uniform(0, delay / 2)
    return delay
