"""The audit log: who changed what, written in the change's own transaction.

`record(session, actor, action, ...)` adds the row to the caller's session and
never commits: the change and its row commit together or not at all.
`changes.diff` gives its masked before/after; `reading` lists and exports it.
"""

from hookboard.services.audit.changes import counts, diff, snapshot
from hookboard.services.audit.reading import AuditFilters, event_json, export_lines, list_events
from hookboard.services.audit.recording import (
    SYSTEM,
    Actor,
    record,
    record_for_person,
    record_login,
)

__all__ = [
    "SYSTEM",
    "Actor",
    "AuditFilters",
    "counts",
    "diff",
    "event_json",
    "export_lines",
    "list_events",
    "record",
    "record_for_person",
    "record_login",
    "snapshot",
]
