"""Shared start-up for every process: settings and keys, or one clear line and exit."""

from __future__ import annotations

import logging
import sys

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hookboard.core.crypto import keyring_of
from hookboard.core.crypto_rows import undecryptable_key_id, wrong_key_message
from hookboard.settings import Settings, SettingsError, get_settings

log = logging.getLogger(__name__)


def exit_on_bad_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        print(f"hookboard: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def wrong_encryption_key(engine: Engine, settings: Settings) -> str | None:
    """Why the configured keys cannot open the stored secrets, or None when they can.

    A database that cannot be read yet (down, or not migrated) is not a key
    problem: the process's own outage handling deals with it."""
    keyring = keyring_of(settings)
    try:
        with engine.connect() as connection:
            key_id = undecryptable_key_id(connection, keyring)
    except SQLAlchemyError as error:
        log.warning("stored secrets not checked: %s", type(error).__name__)
        return None
    return None if key_id is None else wrong_key_message(key_id, keyring)


def exit_on_wrong_encryption_key(engine: Engine, settings: Settings) -> None:
    if (message := wrong_encryption_key(engine, settings)) is not None:
        print(f"hookboard: error: {message}", file=sys.stderr, flush=True)
        raise SystemExit(2)
