"""Response body of POST /schedules/import; the document itself is
`hookboard.services.transfer.ScheduleDocument`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ImportedItemOut(BaseModel):
    type: Literal["target", "schedule"]
    name: str
    action: Literal["create", "update", "unchanged"]
    id: int | None = Field(description="Null for a create in a dry run.")
    changes: list[str] = Field(description="The fields an update changes.")


class ImportReportOut(BaseModel):
    dry_run: bool = Field(description="True: nothing was written.")
    created: int
    updated: int
    unchanged: int
    items: list[ImportedItemOut]
