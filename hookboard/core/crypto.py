"""Secrets at rest, wired to the settings and the database.

The keyring comes from ENCRYPTION_KEY (else SECRET_KEY) plus ENCRYPTION_KEY_PREVIOUS.
The column types encrypt on write and decrypt on read, so every reader (the
ORM, Core selects, the worker's claim) sees plaintext and the tables hold
none. Which columns are encrypted is listed once, in ENCRYPTED_COLUMNS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.types import TypeDecorator

from hookboard.core.redaction import is_secret_header
from hookboard.domain.crypto import Keyring, is_envelope
from hookboard.settings import Settings, get_settings

_current: tuple[Settings, Keyring] | None = None


def keyring_of(settings: Settings) -> Keyring:
    return Keyring.from_materials(settings.encryption_keys())


def current_keyring() -> Keyring:
    """The process keyring, rebuilt only when the settings object changes."""
    global _current
    settings = get_settings()
    if _current is None or _current[0] is not settings:
        _current = (settings, keyring_of(settings))
    return _current[1]


def header_context(table: str, name: str) -> str:
    # Bound to the header's name too: a value cannot be moved to another header.
    return f"{table}.headers:{name.lower()}"


def encrypt_headers(keyring: Keyring, table: str, headers: dict[str, str]) -> dict[str, str]:
    """Secret-looking values encrypted (and any value that looks like an envelope,
    so that reading back never mistakes a plaintext for one)."""
    return {
        name: keyring.encrypt(value, header_context(table, name))
        if is_secret_header(name) or is_envelope(value)
        else value
        for name, value in headers.items()
    }


def decrypt_headers(keyring: Keyring, table: str, headers: dict[str, str]) -> dict[str, str]:
    return {
        name: keyring.decrypt(value, header_context(table, name))
        if isinstance(value, str) and is_envelope(value)
        else value
        for name, value in headers.items()
    }


class EncryptedString(TypeDecorator):
    """A string stored as an envelope bound to ``context`` (its table.column).

    TEXT on PostgreSQL (an envelope is longer than its plaintext); on SQLite,
    which ignores declared lengths, the column keeps its original declaration
    so that no table has to be rebuilt."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str, sqlite_length: int | None = None) -> None:
        super().__init__()
        self.context = context
        self.sqlite_length = sqlite_length

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite" and self.sqlite_length:
            return String(self.sqlite_length)
        return Text()

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else current_keyring().encrypt(value, self.context)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else current_keyring().decrypt(value, self.context)


class EncryptedHeaders(TypeDecorator):
    """A JSON header dict whose secret values are envelopes (the rest stays readable)."""

    impl = JSON
    cache_ok = True

    def __init__(self, table: str) -> None:
        super().__init__()
        self.table = table

    def process_bind_param(self, value: Any, dialect) -> Any:
        if not isinstance(value, dict):
            return value
        return encrypt_headers(current_keyring(), self.table, value)

    def process_result_value(self, value: Any, dialect) -> Any:
        if not isinstance(value, dict):
            return value
        return decrypt_headers(current_keyring(), self.table, value)


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    column: str
    kind: str  # "string" (the whole value) or "headers" (secret values of a JSON dict)

    @property
    def context(self) -> str:
        return f"{self.table}.{self.column}"


# Every encrypted column: the migration, the rotation and the start-up check walk this list.
ENCRYPTED_COLUMNS = (
    EncryptedColumn("signing_secrets", "secret", "string"),
    EncryptedColumn("users", "totp_secret", "string"),
    EncryptedColumn("notification_channels", "url", "string"),
    EncryptedColumn("schedules", "headers", "headers"),
    EncryptedColumn("targets", "headers", "headers"),
)
