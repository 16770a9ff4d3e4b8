"""A schedule's public status badge: an unguessable token and a shields.io-like SVG.

The badge is opt-in per schedule; its URL carries a random token rather than
the schedule's id, so it reveals nothing else and turning it off (or on again)
retires the old URL.
"""

from __future__ import annotations

import secrets
from html import escape

from sqlalchemy import select
from sqlmodel import Session

from hookboard.models import Run, RunStatus, Schedule, ScheduleStatus

TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters
LABEL = "hookboard"
COLOURS = {
    "passing": "#4c1",
    "failing": "#e05d44",
    "paused": "#9f9f9f",
    "unknown": "#9f9f9f",
}
# Verdana 11px averages about 6.5 px per character (shields.io's metric, rounded).
_CHAR_WIDTH = 6.5
_PADDING = 10


def new_badge_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def badge_state(session: Session, token: str) -> str | None:
    """passing / failing / paused / unknown, or None when no schedule shows this badge."""
    if not token or len(token) > 64:
        return None
    schedule = session.exec(
        select(Schedule.id, Schedule.status).where(Schedule.badge_token == token)
    ).first()
    if schedule is None:
        return None
    if schedule.status == ScheduleStatus.paused:
        return "paused"
    # The newest finished run, walking the (schedule_id, id) index backwards.
    last = session.exec(
        select(Run.status)
        .where(
            Run.schedule_id == schedule.id,
            Run.status.in_((RunStatus.succeeded, RunStatus.failed)),
        )
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return "unknown"
    return "passing" if last[0] == RunStatus.succeeded else "failing"


def render_svg(state: str) -> str:
    """A flat two-part badge: `hookboard | <state>`."""
    left = _width(LABEL)
    right = _width(state)
    total = left + right
    colour = COLOURS.get(state, COLOURS["unknown"])
    label, value = escape(LABEL), escape(state)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label}: {value}"><title>{label}: {value}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        f'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" '
        f'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{label}</text>'
        f'<text x="{left + right / 2}" y="14">{value}</text></g></svg>'
    )


def _width(text: str) -> int:
    return round(len(text) * _CHAR_WIDTH) + _PADDING


def badge_path(token: str) -> str:
    """Where the API serves the badge (public, no authentication)."""
    return f"/api/v1/badges/{token}.svg"
