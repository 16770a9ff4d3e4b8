"""What a schedule's page shows, from the models: config rows, chart points, badge links."""

from __future__ import annotations

from typing import Any

from hookboard.core.redaction import redact_headers
from hookboard.models import Schedule
from hookboard.services.badge import badge_path
from hookboard.ui import format as fmt
from hookboard.ui import schedule_actions

CHART_KEYS = ("succeeded", "failed", "retrying", "skipped")


def chart_points(runs) -> list[dict[str, Any]]:
    """Oldest first; each run's latency under its outcome's key so bars take its colour."""
    points = []
    for run in reversed(runs):
        outcome = run.status if run.status in CHART_KEYS else "retrying"
        point: dict[str, Any] = {"run": f"#{run.id}", **dict.fromkeys(CHART_KEYS, 0)}
        point[outcome] = round(run.latency_ms or 0, 1)
        points.append(point)
    return points


def configuration(schedule: Schedule, target_name: str | None) -> list[dict[str, str]]:
    headers = redact_headers(schedule.headers or {})
    request = (
        f"target {target_name}" if target_name else f"{schedule.method or 'POST'} {schedule.url}"
    )
    if target_name and schedule.url:
        request += f", URL overridden: {schedule.url}"
    return [
        {"label": "When", "value": schedule_actions.describe_schedule(schedule)},
        {"label": "Request", "value": request},
        {"label": "Headers", "value": ", ".join(f"{k}: {v}" for k, v in headers.items()) or "—"},
        {"label": "Timeout", "value": f"{schedule.timeout_seconds:g} s"},
        {
            "label": "Retries",
            "value": f"{schedule.max_attempts} attempt{'s' if schedule.max_attempts != 1 else ''}, "
            f"{schedule.backoff} backoff from "
            f"{schedule.base_delay_seconds:g} s (max {schedule.max_delay_seconds:g} s)"
            + (", jitter" if schedule.jitter else ""),
        },
        {"label": "Misfire / overlap", "value": f"{schedule.misfire} / {schedule.overlap}"},
        {"label": "Auto-pause", "value": fmt.auto_pause_text(schedule.auto_pause_after)},
        {"label": "Next run", "value": fmt.absolute(schedule.next_run_at)},
    ]


def badge_links(token: str | None, origin: str, name: str) -> dict[str, str]:
    """The badge's path (for the page), full URL and a Markdown snippet; {} when it is off."""
    if not token:
        return {}
    path = badge_path(token)
    url = f"{origin}{path}"
    return {"path": path, "url": url, "markdown": f"![{name}: hookboard status]({url})"}
