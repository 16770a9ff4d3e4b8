"""Start-up checks that turn common mistakes into one clear line each."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from redis import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hookboard.core.db import make_engine
from hookboard.core.health import probe_database


class PreflightError(RuntimeError):
    """A check failed; the message starts with the setting at fault."""


def check_redis_url(url: str) -> None:
    try:
        Redis.from_url(url)
        database = urlsplit(url).path.strip("/")
        if database and not database.isdigit():
            raise ValueError(f"database must be a number, not {database!r}")
    except ValueError as error:
        raise PreflightError(f"REDIS_URL: malformed URL ({error})") from None


def check_database(url: str) -> None:
    try:
        make_url(url)
    except ArgumentError as error:
        raise PreflightError(f"DATABASE_URL: malformed URL ({error})") from None
    try:
        engine = make_engine(url)
    except Exception as error:  # a driver or dialect problem in the URL itself
        raise PreflightError(f"DATABASE_URL: {error}") from None
    try:
        probe = probe_database(engine)
    finally:
        engine.dispose()
    if not probe.ok:
        safe = make_url(url).render_as_string(hide_password=True)
        raise PreflightError(f"DATABASE_URL: cannot connect to {safe} ({probe.error})")


def check_port_free(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            raise PreflightError(f"PORT: {port} is already in use") from None
