"""Export a user's schedules and targets as one JSON document; import it back.

The document (version 1) holds targets and schedules by name, never by id,
so it moves between accounts and installations:

    {"version": 1, "exported_at": "...",
     "targets":   [{"name": "crm", "url": "https://...", "method": "POST",
                    "headers": {...}, "body": null}],
     "schedules": [{"name": "nightly", "kind": "cron", "cron": "0 2 * * *",
                    "timezone": "Europe/Berlin", "target": "crm",
                    "request": {...}, "retry": {...}, "paused": false,
                    "auto_pause_after": 15, "badge": false, ...}]}

A schedule item has the shape of a POST /schedules body, with `target` (a
target's name) instead of `target_id`. Completed schedules are left out:
they never fire again. `badge` is the opt-in alone, never the badge's token:
the token is a capability URL, so an imported schedule with `badge: true`
gets a fresh one (a schedule that already has a badge keeps its own).

Secrets: an export masks the values of secret-looking headers ("***"), as
every API answer does, unless `include_secrets` is asked for (a backup meant
to be restored must carry them). On import a masked value keeps the value
already stored under that name; a masked value with nothing to keep is
refused, so "***" is never sent as a credential.

Import matches targets and schedules by name: a new name is created, a known
one is updated to match the document (only the fields that differ change, so
an unchanged interval keeps its phase), and nothing absent from the document
is touched. Every item goes through the same validation as the API's create
and edit (hookboard.services), all checked before anything is written, then
written in one short transaction: one bad item and nothing is written. A dry
run does the checks only, reporting what would change.
"""

from hookboard.services.transfer.document import (
    DEFAULT_AUTO_PAUSE_AFTER,
    FORMAT_VERSION,
    MAX_ITEMS,
    Instant,
    Method,
    Name,
    RequestItem,
    RetryItem,
    ScheduleDocument,
    ScheduleItem,
    TargetItem,
    Text,
    aware,
    parse_document,
)
from hookboard.services.transfer.export import (
    export_document,
)
from hookboard.services.transfer.importer import (
    ImportedItem,
    ImportReport,
    run_import,
)

__all__ = [
    "DEFAULT_AUTO_PAUSE_AFTER",
    "FORMAT_VERSION",
    "MAX_ITEMS",
    "ImportReport",
    "ImportedItem",
    "Instant",
    "Method",
    "Name",
    "RequestItem",
    "RetryItem",
    "ScheduleDocument",
    "ScheduleItem",
    "TargetItem",
    "Text",
    "aware",
    "export_document",
    "parse_document",
    "run_import",
]
