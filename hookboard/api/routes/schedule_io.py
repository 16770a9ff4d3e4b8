"""GET /schedules/export and POST /schedules/import (see hookboard.services.transfer).

Registered before the /schedules/{schedule_id} routes, which would otherwise
take "export" for an id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from hookboard.api.common import service_config, utcnow
from hookboard.api.deps import Caller, SessionDep, WriteCaller
from hookboard.api.errors import ApiError
from hookboard.api.schemas.schedule_io import ImportedItemOut, ImportReportOut
from hookboard.engine.wake import wake
from hookboard.services import transfer as schedule_io
from hookboard.services.transfer import ScheduleDocument
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Action

router = APIRouter(prefix="/schedules", tags=["schedules"])


OTHER_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _only(allowed: str):
    """405 for the other methods: else /schedules/{schedule_id} would take them (422)."""

    def wrong_method(request: Request) -> None:
        raise ApiError(
            405, f"{request.method} is not allowed here; use {allowed}", headers={"Allow": allowed}
        )

    return wrong_method


@router.get("/export", response_model=ScheduleDocument)
def export_schedules(
    session: SessionDep,
    caller: Caller,
    include_secrets: Annotated[
        bool,
        Query(description="Secret-looking header values unmasked (a restorable backup)."),
    ] = False,
) -> ScheduleDocument:
    """Your targets and schedules (completed ones left out) as one JSON document
    that POST /schedules/import accepts. Secret header values are masked unless
    `include_secrets=true`, which needs the editor role (a write-scope key)."""
    if include_secrets:
        permissions.check(caller, Action.export_secrets)
    return schedule_io.export_document(
        session, workspace_id=caller.workspace_id, include_secrets=include_secrets, now=utcnow()
    )


@router.post("/import", response_model=ImportReportOut)
def import_schedules(
    document: ScheduleDocument,
    session: SessionDep,
    caller: WriteCaller,
    dry_run: Annotated[
        bool, Query(description="Validate and report what would change; write nothing.")
    ] = False,
) -> ImportReportOut:
    """Create or update targets and schedules by name, all or nothing: one
    invalid item (named in the error's `field`, e.g. `schedules.3.request.url`)
    and nothing is written. Schedules absent from the document are not touched."""
    report = schedule_io.run_import(
        session,
        access=caller,
        document=document,
        dry_run=dry_run,
        now=utcnow(),
        config=service_config(),
    )
    if not dry_run:
        wake()
    return ImportReportOut(
        dry_run=report.dry_run,
        created=report.count("create"),
        updated=report.count("update"),
        unchanged=report.count("unchanged"),
        items=[ImportedItemOut(**vars(item)) for item in report.items],
    )


for _path, _allowed in (("/export", "GET"), ("/import", "POST")):
    router.add_api_route(
        _path,
        _only(_allowed),
        methods=[method for method in OTHER_METHODS if method != _allowed],
        include_in_schema=False,
    )
