"""An outage is logged once when it starts and once when it ends, with backoff."""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from hookboard.core.outage import FIRST_DELAY_SECONDS, MAX_DELAY_SECONDS, Outage, is_outage

log = logging.getLogger("test.outage")


def test_many_failures_make_one_error_line_and_one_recovery_line(caplog):
    outage = Outage(log, "the round")
    caplog.set_level(logging.INFO, logger="test.outage")
    delays = [outage.failed(RuntimeError("down")) for _ in range(50)]
    outage.worked()
    outage.worked()  # nothing more to say
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines[0] == ("ERROR", "the round failed; retrying until it works: down")
    assert lines[1][0] == "WARNING" and "works again after" in lines[1][1]
    assert "(50 failed tries)" in lines[1][1]
    assert len(lines) == 2
    assert delays[:3] == [FIRST_DELAY_SECONDS, 2 * FIRST_DELAY_SECONDS, 4 * FIRST_DELAY_SECONDS]
    assert max(delays) == MAX_DELAY_SECONDS == delays[-1]


def test_a_new_outage_starts_over(caplog):
    outage = Outage(log, "the round")
    for _ in range(10):
        outage.failed(RuntimeError("down"))
    outage.worked()
    assert outage.failed(RuntimeError("down again")) == FIRST_DELAY_SECONDS
    assert outage.ongoing


def test_only_unreachable_services_count_as_an_outage():
    assert is_outage(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert is_outage(RedisConnectionError("Connection closed by server."))
    assert not is_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_outage(ValueError("a bug"))
