"""The fields an audited change touched, before and after, with secrets masked.

Differences are found on the stored values, then both sides are masked: a
secret header whose value changed shows `{"Authorization": "***"}` on both
sides, never the secret. Long values are cut so one row stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import SQLModel

from hookboard.core.redaction import MASK, redact_channel_url, redact_headers, redact_url

MAX_VALUE_CHARS = 500
# Bookkeeping the engine or the service keeps, not what the person changed.
IGNORED = frozenset(
    {
        "id",
        "workspace_id",
        "created_at",
        "updated_at",
        "anchor_at",
        "next_run_at",
        "last_run_at",
        "last_run_id",
        "consecutive_failures",
        "failing_since",
        "key_hash",
        "last_used_at",
        "created_by_user_id",
    }
)

Mask = Callable[[Any], Any]


def _mask_all(value: Any) -> Any:
    return MASK if value else value


def _mask_headers(value: Any) -> Any:
    return redact_headers(value) if isinstance(value, dict) else value


# How each kind of object shows its secret fields.
MASKS: dict[str, dict[str, Mask]] = {
    "schedule": {"headers": _mask_headers, "url": redact_url, "badge_token": _mask_all},
    "target": {"headers": _mask_headers, "url": redact_url},
    "channel": {"url": redact_channel_url},
    "key": {},
}


def snapshot(row: SQLModel) -> dict[str, Any]:
    """The row's own fields as stored (unmasked: compare, then mask with `diff`)."""
    return {
        column.name: _copied(getattr(row, column.name))
        for column in row.__table__.columns  # type: ignore[attr-defined]
        if column.name not in IGNORED
    }


def _copied(value: Any) -> Any:
    # An edit may change a JSON column in place: keep the value as it was.
    return dict(value) if isinstance(value, dict) else value


def diff(
    object_type: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose stored value differs, masked.
    A create has no `before`, a delete no `after`."""
    before, after = before or {}, after or {}
    masks = MASKS.get(object_type, {})
    changed = {}
    for name in sorted({*before, *after}):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        mask = masks.get(name, _same)
        changed[name] = [_bounded(mask(old)), _bounded(mask(new))]
    return changed


def _same(value: Any) -> Any:
    return value


def _bounded(value: Any) -> Any:
    """JSON-ready and cut to MAX_VALUE_CHARS per string."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, dict):
        return {str(key)[:MAX_VALUE_CHARS]: _bounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(item) for item in value]
    return value


def counts(items: Iterable[tuple[str, str]]) -> dict[str, list[int | None]]:
    """An import's changes: {"schedules_created": [None, 2], ...} from (type, action) pairs
    such as ("schedule", "create"), ("target", "unchanged")."""
    past = {"create": "created", "update": "updated", "unchanged": "unchanged"}
    tally: dict[str, list[int | None]] = {
        f"{kind}s_{done}": [None, 0] for kind in ("target", "schedule") for done in past.values()
    }
    for kind, action in items:
        tally[f"{kind}s_{past[action]}"][1] += 1  # type: ignore[operator]
    return tally
