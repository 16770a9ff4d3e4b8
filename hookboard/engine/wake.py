"""Wake the tickers after a schedule changed (created, edited, resumed, imported).

Tickers sleep until the earliest next_run_at; a change must cut that short.
Best effort: without Redis they still notice within TICKER_MAX_IDLE_SECONDS.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from hookboard.core.redis_client import get_redis
from hookboard.engine.queueing import wake_tickers
from hookboard.settings import get_settings

log = logging.getLogger("hookboard")


def wake() -> None:
    try:
        wake_tickers(get_redis(), get_settings().queue_name)
    except RedisError:
        log.warning("could not wake the tickers; they notice within their idle limit")
