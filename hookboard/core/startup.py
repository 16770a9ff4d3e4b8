"""Shared start-up for the worker and ticker: settings, or one clear line and exit."""

from __future__ import annotations

import sys

from hookboard.settings import Settings, SettingsError, get_settings


def exit_on_bad_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        print(f"hookboard: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
