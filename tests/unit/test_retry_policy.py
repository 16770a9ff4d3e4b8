import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookboard.domain.retry_policy import RetryPolicy, backoff_delay, retry_delay


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [("fixed", [5, 5, 5, 5]), ("linear", [5, 10, 15, 20]), ("exponential", [5, 10, 20, 40])],
)
def test_backoff_shapes(backoff, expected):
    policy = RetryPolicy(backoff=backoff, base_delay_seconds=5, max_delay_seconds=1000)
    assert [backoff_delay(policy, n) for n in (1, 2, 3, 4)] == expected


def test_the_delay_is_capped():
    policy = RetryPolicy(backoff="exponential", base_delay_seconds=5, max_delay_seconds=30)
    assert backoff_delay(policy, 10) == 30
    assert backoff_delay(policy, 10_000) == 30  # no overflow


def test_retry_after_wins_but_is_capped():
    policy = RetryPolicy(base_delay_seconds=5, max_delay_seconds=60)
    assert retry_delay(policy, 1, retry_after=42) == 42
    assert retry_delay(policy, 1, retry_after=3600) == 60
    assert retry_delay(policy, 1, retry_after=-5) == 0


@given(
    failed=st.integers(1, 30),
    base=st.floats(0.1, 600),
    cap=st.floats(1, 86400),
    seed=st.integers(0, 2**32),
)
def test_jitter_stays_within_half_to_full_delay(failed, base, cap, seed):
    policy = RetryPolicy(base_delay_seconds=base, max_delay_seconds=cap, jitter=True)
    full = backoff_delay(policy, failed)
    delay = retry_delay(policy, failed, rng=random.Random(seed))
    assert full / 2 <= delay <= full <= cap
