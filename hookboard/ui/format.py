"""Plain formatting for the dashboard: times, durations, outcome colours. No Reflex."""

from __future__ import annotations

from datetime import UTC, datetime

# Radix colour names per run status: success green, failed red, retrying amber, skipped grey.
RUN_STATUS_COLORS = {
    "succeeded": "green",
    "failed": "red",
    "retrying": "amber",
    "skipped": "gray",
    "pending": "blue",
    "running": "blue",
}
SCHEDULE_STATUS_COLORS = {"active": "green", "paused": "amber", "completed": "gray"}
# Chart fills, the same hues as the badges.
OUTCOME_FILLS = {
    "succeeded": "#30a46c",
    "failed": "#e5484d",
    "retrying": "#ffb224",
    "skipped": "#8b8d98",
    "pending": "#0090ff",
}

_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def absolute(instant: datetime | None) -> str:
    """'2026-11-22 14:05:09 UTC', or an em dash for none."""
    if instant is None:
        return "—"
    return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    for suffix, size in _UNITS:
        if seconds >= size:
            return f"{int(seconds // size)} {suffix}"
    return "0 s"


def relative(instant: datetime | None, now: datetime) -> str:
    """'in 5 min', '3 h ago', 'now'."""
    if instant is None:
        return "—"
    delta = (instant - now).total_seconds()
    if abs(delta) < 1:
        return "now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(delta)} ago"


def latency(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "—"
    if milliseconds >= 1000:
        return f"{milliseconds / 1000:.2f} s"
    return f"{milliseconds:.0f} ms"


def percentage(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f}%"


def run_status_color(status: str) -> str:
    return RUN_STATUS_COLORS.get(status, "gray")


def failing_summary(failures: int, since: datetime | None, now: datetime) -> str:
    """'failing since 12 min ago (3 failed runs in a row)', or '' while it is not failing."""
    if failures <= 0:
        return ""
    runs = "1 failed run" if failures == 1 else f"{failures} failed runs in a row"
    if since is None:
        return f"failing ({runs})"
    return f"failing since {relative(since, now)} ({runs})"


def auto_pause_text(after: int) -> str:
    if after <= 0:
        return "never (auto-pause off)"
    return f"after {after} failed run{'s' if after != 1 else ''} in a row"
