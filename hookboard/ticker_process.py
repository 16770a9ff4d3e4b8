"""The ticker process: wakes at each due instant and dispatches due schedules."""

from __future__ import annotations

import logging
import time

from hookboard.settings import get_settings

log = logging.getLogger("hookboard.ticker")


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s ticker %(message)s")
    log.info("ticker started")
    while True:
        time.sleep(1)
