"""Riding out a database or Redis outage in a loop that must never end.

A long-running loop (the ticker, the worker's database thread) calls
`failed()` when a round raises and waits the delay it returns, and calls
`worked()` when a round goes through. The first failure of an outage is logged
with its traceback, the rest quietly, and the end of the outage once, so that
a ten-minute outage is three log lines, not six hundred tracebacks.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 2.0  # short: a loop waiting on this holds finished work


def is_outage(error: BaseException) -> bool:
    """True for a database or Redis that does not answer (or SQLite's lock held too
    long): worth retrying for as long as it lasts. A bug is not."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    outage_types = (
        OperationalError,
        InterfaceError,
        DisconnectionError,
        RedisConnectionError,
        RedisTimeoutError,
    )
    return isinstance(error, outage_types)


class Outage:
    def __init__(self, log: logging.Logger, what: str, max_delay: float = MAX_DELAY_SECONDS):
        self._log = log
        self._what = what
        self._max_delay = max_delay
        self._since: float | None = None
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> float:
        """Note one failed try; the seconds to wait before the next."""
        if self._since is None:
            self._since = time.monotonic()
            self._log.error(
                "%s failed; retrying until it works: %s", self._what, error, exc_info=error
            )
        else:
            self._log.debug("%s failed again: %s", self._what, error)
        self._failures += 1
        return min(FIRST_DELAY_SECONDS * 2 ** min(self._failures - 1, 16), self._max_delay)

    def worked(self) -> None:
        if self._since is None:
            return
        self._log.warning(
            "%s works again after %.1fs (%d failed tries)",
            self._what,
            time.monotonic() - self._since,
            self._failures,
        )
        self._since = None
        self._failures = 0
