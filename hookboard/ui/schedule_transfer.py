"""Export and import of schedules for the dashboard, through hookboard.services.transfer
exactly as GET /schedules/export and POST /schedules/import use it. No Reflex."""

from __future__ import annotations

import json
from typing import Any

from hookboard.services import InvalidInput
from hookboard.services import transfer as schedule_io
from hookboard.services.transfer import ImportReport
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action
from hookboard.ui import services

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # ~10,000 schedules fit in a few MiB
ACTION_WORDS = {
    True: {"create": "to create", "update": "to update", "unchanged": "unchanged"},
    False: {"create": "created", "update": "updated", "unchanged": "unchanged"},
}


def export_text(access: Access, *, include_secrets: bool) -> tuple[str, str]:
    """(file name, JSON text) of the user's targets and schedules."""
    if include_secrets:
        permissions.check(access, Action.export_secrets)
    now = services.now()
    with services.db() as session:
        document = schedule_io.export_document(
            session, workspace_id=access.workspace_id, include_secrets=include_secrets, now=now
        )
    return f"hookboard-schedules-{now:%Y-%m-%d}.json", document.model_dump_json(indent=2)


def parse_json(text: str) -> Any:
    """The pasted or uploaded document; InvalidInput("document") when it is not JSON."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("document", f"larger than {MAX_DOCUMENT_BYTES // 1024 // 1024} MiB")
    if not text.strip():
        raise InvalidInput("document", "paste an export or choose a file first")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "document", f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None


def run_import(access: Access, text: str, *, dry_run: bool) -> ImportReport:
    """All or nothing, in one transaction; a dry run writes nothing."""
    document = parse_json(text)
    with services.db() as session:
        return schedule_io.run_import(
            session,
            access=access,
            document=document,
            dry_run=dry_run,
            now=services.now(),
            config=services.config(),
        )


def summary(report: ImportReport) -> str:
    """'1 to create, 2 to update, 3 unchanged' (or 'created'/'updated' once applied)."""
    words = ACTION_WORDS[report.dry_run]
    parts = [f"{report.count(action)} {word}" for action, word in words.items()]
    return ", ".join(parts)


def report_rows(report: ImportReport) -> list[dict[str, str]]:
    return [
        {
            "type": item.type,
            "name": item.name,
            "action": item.action,
            "changes": ", ".join(item.changes),
        }
        for item in report.items
    ]


def changes_anything(report: ImportReport) -> bool:
    return any(item.action != "unchanged" for item in report.items)
