"""Column helpers shared by every table: aware UTC times, owner foreign keys, ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field

from hookboard.core.crypto import EncryptedHeaders


def utcnow() -> datetime:
    return datetime.now(UTC)


def fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    """A foreign key column; owned rows are deleted with their owner."""
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            BigInteger, ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index
        ),
    )


def json_column(default: Any) -> Any:
    return Field(default_factory=lambda: type(default)(), sa_column=Column(JSON, nullable=False))


# SQLite's AUTOINCREMENT: a deleted row's id is never given again (a plain
# rowid table reuses the highest one), so an id seen by a receiver or held by
# an Idempotency-Key answer never comes to name another user's row. PostgreSQL
# sequences never go back anyway.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def secret_headers(table: str) -> Any:
    """A header dict whose secret-looking values are encrypted at rest."""
    return Field(default_factory=dict, sa_column=Column(EncryptedHeaders(table), nullable=False))


def big_pk() -> Any:
    # BigInteger on PostgreSQL (runs and attempts outgrow 2**31); SQLite maps it to
    # INTEGER PRIMARY KEY, the rowid, through the variant.
    return Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
