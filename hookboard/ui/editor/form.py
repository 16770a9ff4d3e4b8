"""The schedule editor's form, as plain strings, to service fields and back. No Reflex.

Numbers and local date-times are parsed here, each error naming its API field
("retry.max_attempts", "starts_at") so that it shows beside its input; every
other rule is the schedule service's.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hookboard.core.redaction import redact_headers
from hookboard.models import Schedule
from hookboard.services import InvalidInput
from hookboard.ui.ids import id_of

NO_TARGET = "none"
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
# Every field an error may be reported on, so the page can show each beside its input.
ERROR_FIELDS = (
    "name", "kind", "cron", "timezone", "every", "unit", "run_at", "starts_at", "ends_at",
    "target_id", "request.url", "request.method", "request.headers", "request.body",
    "timeout_seconds", "retry.max_attempts", "retry.backoff", "retry.base_delay_seconds",
    "retry.max_delay_seconds", "misfire", "overlap", "auto_pause_after", "badge",
)  # fmt: skip
TIME_ZONES = sorted(available_timezones() - {"localtime", "Factory"})

DEFAULT_FORM: dict[str, Any] = {
    "name": "",
    "kind": "cron",
    "cron": "0 2 * * *",
    "timezone": "UTC",
    "every": "5",
    "unit": "minutes",
    "run_at": "",
    "starts_at": "",
    "ends_at": "",
    "target_id": NO_TARGET,
    "method": "POST",
    "url": "",
    "headers": [],
    "body": "",
    "timeout_seconds": "30",
    "follow_redirects": False,
    "max_attempts": "3",
    "backoff": "exponential",
    "base_delay_seconds": "10",
    "max_delay_seconds": "3600",
    "jitter": True,
    "misfire": "coalesce",
    "overlap": "skip",
    "auto_pause_after": str(Schedule.model_fields["auto_pause_after"].default),
    "badge": False,
}


def no_errors() -> dict[str, str]:
    return dict.fromkeys(ERROR_FIELDS, "")


def _number(text: str, field: str, *, integer: bool = False) -> int | float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise InvalidInput(field, f"must be {kind}") from None


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo((name or "").strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", f"unknown time zone {name!r}") from None


def _instant(text: str, field: str, zone: ZoneInfo) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "must be a date and time") from None
    return local.replace(tzinfo=zone) if local.tzinfo is None else local


def local_text(instant: datetime | None, zone_name: str) -> str:
    if instant is None:
        return ""
    try:
        return instant.astimezone(ZoneInfo(zone_name)).strftime(LOCAL_FORMAT)
    except (ZoneInfoNotFoundError, ValueError):
        return instant.strftime(LOCAL_FORMAT)


def timing_fields(form: dict[str, Any]) -> dict[str, Any]:
    """kind, cron, timezone, every, unit, run_at, starts_at, ends_at; None where unused."""
    kind = form["kind"]
    zone = zone_of(form["timezone"])
    uses_step = kind in ("interval", "window")
    return {
        "kind": kind,
        "timezone": form["timezone"].strip(),
        "cron": form["cron"].strip() if kind == "cron" else None,
        "every": _number(form["every"], "every", integer=True) if uses_step else None,
        "unit": form["unit"] if uses_step else None,
        "run_at": _instant(form["run_at"], "run_at", zone) if kind == "once" else None,
        "starts_at": _instant(form["starts_at"], "starts_at", zone),
        "ends_at": _instant(form["ends_at"], "ends_at", zone),
    }


def headers_of(rows: list[dict[str, str]]) -> dict[str, str]:
    """Rows with a name become headers; a name given twice is the service's error to report."""
    headers: dict[str, str] = {}
    for row in rows:
        name = (row.get("name") or "").strip()
        if not name:
            continue
        if name.lower() in {existing.lower() for existing in headers}:
            raise InvalidInput("request.headers", f"header {name!r} is given twice")
        headers[name] = row.get("value") or ""
    return headers


def request_fields(form: dict[str, Any]) -> dict[str, Any]:
    target = form["target_id"]
    return {
        "target_id": None if target in ("", NO_TARGET) else id_of(target, "target"),
        "url": form["url"].strip() or None,
        "method": form["method"] or None,
        "headers": headers_of(form["headers"]),
        "body": form["body"] if form["body"] != "" else None,
    }


def to_fields(form: dict[str, Any]) -> dict[str, Any]:
    """Storage fields for schedule_service.create_schedule / update_schedule."""
    return {
        "name": form["name"],
        **timing_fields(form),
        **request_fields(form),
        "timeout_seconds": _number(form["timeout_seconds"], "timeout_seconds"),
        "follow_redirects": bool(form["follow_redirects"]),
        "max_attempts": _number(form["max_attempts"], "retry.max_attempts", integer=True),
        "backoff": form["backoff"],
        "base_delay_seconds": _number(form["base_delay_seconds"], "retry.base_delay_seconds"),
        "max_delay_seconds": _number(form["max_delay_seconds"], "retry.max_delay_seconds"),
        "jitter": bool(form["jitter"]),
        "misfire": form["misfire"],
        "overlap": form["overlap"],
        "auto_pause_after": _number(form["auto_pause_after"], "auto_pause_after", integer=True),
        "badge": bool(form["badge"]),
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def from_schedule(schedule: Schedule) -> dict[str, Any]:
    """The form for an existing schedule; secret header values arrive masked ("***")."""
    zone = schedule.timezone
    return {
        **DEFAULT_FORM,
        "name": schedule.name,
        "kind": schedule.kind,
        "cron": schedule.cron or DEFAULT_FORM["cron"],
        "timezone": zone,
        "every": _text(schedule.every) or DEFAULT_FORM["every"],
        "unit": schedule.unit or DEFAULT_FORM["unit"],
        "run_at": local_text(schedule.run_at, zone),
        "starts_at": local_text(schedule.starts_at, zone),
        "ends_at": local_text(schedule.ends_at, zone),
        "target_id": str(schedule.target_id) if schedule.target_id else NO_TARGET,
        "method": schedule.method or "POST",
        "url": schedule.url or "",
        "headers": [
            {"name": name, "value": value}
            for name, value in redact_headers(schedule.headers or {}).items()
        ],
        "body": schedule.body or "",
        "timeout_seconds": _text(schedule.timeout_seconds),
        "follow_redirects": schedule.follow_redirects,
        "max_attempts": _text(schedule.max_attempts),
        "backoff": schedule.backoff,
        "base_delay_seconds": _text(schedule.base_delay_seconds),
        "max_delay_seconds": _text(schedule.max_delay_seconds),
        "jitter": schedule.jitter,
        "misfire": schedule.misfire,
        "overlap": schedule.overlap,
        "auto_pause_after": _text(schedule.auto_pause_after),
        "badge": schedule.badge_token is not None,
    }


def json_check(body: str) -> tuple[bool, str]:
    """(ok, message) for a body: JSON bodies are parsed, anything else is sent as it is."""
    stripped = body.strip()
    if not stripped:
        return True, ""
    if stripped[0] not in '{["' and not stripped[0].isdigit():
        return True, "Not JSON: sent as plain text."
    try:
        json.loads(stripped)
    except json.JSONDecodeError as error:
        return False, f"Invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    return True, "Valid JSON"
