"""The `webhook-id` of a run: unique across users and never given twice.

Receivers deduplicate on it (as Standard Webhooks advises), so it must not
repeat even if a run's database id ever did: each run gets a random key when
it is recorded, `msg_` and 26 Crockford base32 characters, ULID-style (48 bits
of milliseconds, then 80 random bits), so keys recorded together sort and
index together. Runs recorded before keys existed keep their old `run_<id>`,
so the receivers of their retries see the id they saw before.
"""

from __future__ import annotations

import os
import time

DELIVERY_KEY_PREFIX = "msg_"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every 10-bit value as two digits: 13 lookups encode the 130-bit key.
_DIGIT_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_SHIFTS = range(120, -1, -10)
DELIVERY_KEY_MAX_CHARS = len(DELIVERY_KEY_PREFIX) + 26


def new_delivery_key() -> str:
    # 130 bits, the top two zero: 48 of milliseconds, then 80 random.
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    return DELIVERY_KEY_PREFIX + "".join(_DIGIT_PAIRS[value >> shift & 1023] for shift in _SHIFTS)


def run_webhook_id(run_id: int, delivery_key: str | None) -> str:
    """The same on every attempt and replay of the run."""
    return delivery_key or f"run_{run_id}"
