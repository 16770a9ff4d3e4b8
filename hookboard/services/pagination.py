"""Keyset pagination: pages of rows newest first behind an opaque cursor."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from hookboard.services.errors import InvalidInput

T = TypeVar("T")


MAX_ID = 2**63 - 1


MAX_PAGE_SIZE = 200


DEFAULT_PAGE_SIZE = 50


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(kind: str, last_id: int) -> str:
    raw = f"{kind}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The id a cursor continues after; InvalidInput("cursor") for anything forged or foreign."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("cursor", "invalid cursor") from None
    prefix, _, number = raw.partition(":")
    if prefix != kind or not number.isdigit() or len(number) > 19:
        raise InvalidInput("cursor", "invalid cursor")
    value = int(number)
    if not 0 < value <= MAX_ID:
        raise InvalidInput("cursor", "invalid cursor")
    return value


def page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def make_page(rows: Sequence[T], limit: int, kind: str) -> Page[T]:
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, encode_cursor(kind, items[-1].id) if more and items else None)


def valid_id(value: int | None) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
