"""Ids that arrive in dashboard events (a button's argument, a URL's query) as text."""

from __future__ import annotations

from typing import Any

from hookboard.services import InvalidInput, NotFound, valid_id


def id_of(value: Any, what: str) -> int:
    """The id a client sent; NotFound(what) for anything that cannot be one ("abc", 0, 2**64)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise NotFound(what) from None
    if not valid_id(number):
        raise NotFound(what)
    return number


def filter_id(value: Any, field: str) -> int:
    """An id in a filter (?schedule=…): InvalidInput naming the filter when it is not one."""
    try:
        return id_of(value, field)
    except NotFound:
        raise InvalidInput(field, "not a valid id") from None
