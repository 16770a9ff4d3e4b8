"""A run's webhook-id: a random key per run, the old run_<id> for runs without one."""

from __future__ import annotations

import re

from hookboard.domain.webhook_ids import DELIVERY_KEY_MAX_CHARS, new_delivery_key, run_webhook_id
from hookboard.models import Run

KEY = re.compile(r"msg_[0-9A-HJKMNP-TV-Z]{26}")


def test_delivery_keys_are_crockford_base32_and_never_repeat():
    keys = [new_delivery_key() for _ in range(20_000)]
    assert all(KEY.fullmatch(key) for key in keys)
    assert len(set(keys)) == len(keys)
    assert len(keys[0]) == DELIVERY_KEY_MAX_CHARS


def test_keys_made_later_sort_later():
    # The first 48 bits are milliseconds: keys recorded together index together.
    earlier = new_delivery_key()
    later = [new_delivery_key() for _ in range(2000)][-1]
    assert earlier[:12] <= later[:12]


def test_a_run_recorded_before_keys_existed_keeps_its_old_webhook_id():
    assert run_webhook_id(348, None) == "run_348"
    assert run_webhook_id(348, "msg_01ABC") == "msg_01ABC"


def test_every_new_run_object_gets_its_own_key():
    first, second = (Run(workspace_id=1, schedule_id=1, scheduled_for=None) for _ in range(2))
    assert KEY.fullmatch(first.delivery_key)
    assert first.delivery_key != second.delivery_key
