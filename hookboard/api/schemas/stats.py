"""Response body of GET /schedules/{schedule_id}/stats."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LatencyPercentiles(BaseModel):
    p50: float | None
    p95: float | None
    p99: float | None


class LagPercentiles(BaseModel):
    p50: float | None
    p99: float | None


class RunCounts(BaseModel):
    total: int
    succeeded: int
    failed: int
    skipped: int
    pending: int
    running: int
    retrying: int


class ScheduleStatsOut(BaseModel):
    schedule_id: int
    window: str
    since: datetime
    until: datetime
    runs: RunCounts
    success_rate: float | None = Field(description="succeeded / (succeeded + failed); null: none.")
    latency_ms: LatencyPercentiles
    fire_lag_ms: LagPercentiles = Field(
        description="First attempt's start minus the run's scheduled instant."
    )
    sample_size: int = Field(description="Runs the percentiles were computed over.")
