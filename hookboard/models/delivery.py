"""What a workspace owns: keys, signing secrets, targets, schedules, runs, attempts,
notification channels and the alerts outbox. Every row carries `workspace_id`,
so a query can always be scoped to its owner; deleting a workspace deletes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookboard.core.crypto import EncryptedString
from hookboard.domain.limits import (
    MAX_CRON_CHARS,
    MAX_NAME_CHARS,
    MAX_TIMEZONE_CHARS,
    MAX_URL_CHARS,
)
from hookboard.domain.webhook_ids import DELIVERY_KEY_MAX_CHARS, new_delivery_key
from hookboard.models.columns import (
    NEVER_REUSE_IDS,
    big_pk,
    fk,
    json_column,
    secret_headers,
    utcnow,
)
from hookboard.models.enums import AlertStatus, RunStatus, RunTrigger, ScheduleStatus


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id")
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=24, description="Shown in lists to recognise the key.")
    key_hash: str = Field(max_length=64, unique=True, index=True)
    # "read" acts as a viewer, "write" as an editor (services/workspaces/permissions).
    scope: str = Field(max_length=10, default="write")
    # Who made it; the key stays the workspace's when its creator leaves.
    created_by_user_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class SigningSecret(SQLModel, table=True):
    """Standard Webhooks secrets; after a rotation the old one signs until `expires_at`.

    Encrypted at rest, and never looked up by value."""

    __tablename__ = "signing_secrets"
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id")
    secret: str = Field(
        sa_column=Column(
            EncryptedString("signing_secrets.secret", sqlite_length=100), nullable=False
        )
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None


class Target(SQLModel, table=True):
    """A reusable, named request shared by many schedules."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_targets_workspace_name"),
        NEVER_REUSE_IDS,
    )

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id")
    name: str = Field(max_length=MAX_NAME_CHARS)
    url: str = Field(max_length=MAX_URL_CHARS)
    method: str = Field(max_length=10, default="POST")
    headers: dict[str, str] = secret_headers("targets")
    body: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Schedule(SQLModel, table=True):
    """When to fire and what to send.

    The request is the schedule's own (`url`, `method`, ...) or a target's; with
    a target, non-null request fields here override the target's at firing time.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        # The ticker's query: active schedules whose next_run_at has come.
        Index("ix_schedules_due", "status", "next_run_at"),
        NEVER_REUSE_IDS,
    )

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id")
    name: str = Field(max_length=MAX_NAME_CHARS)
    status: str = Field(max_length=16, default=ScheduleStatus.active)
    paused_reason: str | None = Field(default=None, max_length=500)

    kind: str = Field(max_length=16)
    cron: str | None = Field(default=None, max_length=MAX_CRON_CHARS)
    timezone: str = Field(max_length=MAX_TIMEZONE_CHARS, default="UTC")
    every: int | None = None
    unit: str | None = Field(default=None, max_length=16)
    run_at: datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    anchor_at: datetime = Field(default_factory=utcnow, description="Interval origin.")

    target_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("targets.id"), nullable=True, index=True),
    )
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    method: str | None = Field(default=None, max_length=10)
    headers: dict[str, str] = secret_headers("schedules")
    body: str | None = Field(default=None, sa_column=Column(Text))
    timeout_seconds: float = 30.0
    follow_redirects: bool = False

    max_attempts: int = 3
    backoff: str = Field(max_length=16, default="exponential")
    base_delay_seconds: float = 10.0
    max_delay_seconds: float = 3600.0
    jitter: bool = True
    misfire: str = Field(max_length=16, default="coalesce")
    overlap: str = Field(max_length=16, default="skip")

    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    # The newest run, joined by the ticker for the overlap policy (no FK: runs
    # are purged by retention while the schedule lives on).
    last_run_id: int | None = Field(default=None, sa_type=BigInteger)
    consecutive_failures: int = 0
    # Auto-pause after this many failed runs in a row; 0 = never.
    auto_pause_after: int = 15
    # Start of the current failure streak; the next success sends "recovered".
    failing_since: datetime | None = None
    # Set = the public status badge is on; its URL carries this random token.
    badge_token: str | None = Field(default=None, max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    """One firing of a schedule; its HTTP tries are `Attempt` rows."""

    __tablename__ = "runs"
    __table_args__ = (
        # A firing can never be recorded twice, whatever the number of tickers.
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_runs_schedule_firing"),
        Index("ix_runs_workspace_id_desc", "workspace_id", "id"),
        Index("ix_runs_schedule_id_desc", "schedule_id", "id"),
        # Recovery finds unfinished runs whose lease ran out.
        Index("ix_runs_status_lease", "status", "lease_expires_at"),
        NEVER_REUSE_IDS,
    )

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id", index=False)
    schedule_id: int = fk("schedules.id", index=False)
    scheduled_for: datetime
    trigger: str = Field(max_length=16, default=RunTrigger.schedule)
    status: str = Field(max_length=16, default=RunStatus.pending)
    attempt_count: int = 0
    # Copied from the schedule at firing; a replay raises it by one more budget.
    max_attempts: int = 3
    status_code: int | None = None
    latency_ms: float | None = None
    error_class: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    next_attempt_at: datetime | None = None
    lease_expires_at: datetime | None = None
    # Its webhook-id (domain/webhook_ids.py); NULL for runs recorded before
    # keys existed, which keep "run_<id>".
    delivery_key: str | None = Field(
        default_factory=new_delivery_key,
        max_length=DELIVERY_KEY_MAX_CHARS,
        unique=True,
        index=True,
    )


class Attempt(SQLModel, table=True):
    """One HTTP try: what was sent (secrets redacted) and what came back."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("run_id", "number", name="uq_attempts_run_number"),
        NEVER_REUSE_IDS,
    )

    id: int | None = big_pk()
    run_id: int = fk("runs.id", index=False)
    workspace_id: int = fk("workspaces.id")
    number: int
    started_at: datetime
    latency_ms: float | None = None
    error_class: str = Field(max_length=32)
    error_message: str | None = Field(default=None, max_length=1000)
    status_code: int | None = None
    request_method: str = Field(max_length=10)
    request_url: str = Field(max_length=MAX_URL_CHARS)
    request_headers: dict[str, str] = json_column({})
    request_body: str | None = Field(default=None, sa_column=Column(Text))
    response_headers: dict[str, str] = json_column({})
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class NotificationChannel(SQLModel, table=True):
    """Where a user's alerts go: a webhook URL or an email address."""

    __tablename__ = "notification_channels"
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id")
    name: str = Field(max_length=MAX_NAME_CHARS)
    kind: str = Field(max_length=16)
    # Encrypted: a Slack-style webhook URL is itself the credential.
    url: str | None = Field(
        default=None,
        sa_column=Column(
            EncryptedString("notification_channels.url", sqlite_length=MAX_URL_CHARS),
            nullable=True,
        ),
    )
    email: str | None = Field(default=None, max_length=320)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Alert(SQLModel, table=True):
    """The alerts outbox: one row per event and channel, sent with retries.

    Written in the transaction that records the outcome, so an alert survives a
    worker crash or a Redis loss; workers poll for due rows.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_due", "status", "next_attempt_at"), NEVER_REUSE_IDS)

    id: int | None = big_pk()
    workspace_id: int = fk("workspaces.id", index=False)
    channel_id: int = fk("notification_channels.id")
    # No foreign keys: an alert outlives a deleted schedule or a purged run.
    schedule_id: int | None = Field(default=None, sa_type=BigInteger)
    run_id: int | None = Field(default=None, sa_type=BigInteger)
    event: str = Field(max_length=16)
    subject: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = json_column({})
    status: str = Field(max_length=16, default=AlertStatus.pending)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
