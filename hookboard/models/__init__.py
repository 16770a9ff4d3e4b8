"""Database tables. Plain SQLModel tables with aware UTC datetimes.

A user signs in; a workspace owns (accounts.py, workspaces.py). Every owned row
carries `workspace_id`, so a query can always be scoped to its owner
(delivery.py). API schemas (Create/Update/Public) live beside the routes that
use them; these classes are the storage layer only.
"""

from hookboard.models.accounts import AuthSession, LoginChallenge, RecoveryCode, User
from hookboard.models.columns import utcnow
from hookboard.models.delivery import (
    Alert,
    ApiKey,
    Attempt,
    NotificationChannel,
    Run,
    Schedule,
    SigningSecret,
    Target,
)
from hookboard.models.enums import (
    AlertEvent,
    AlertStatus,
    ChannelKind,
    RunStatus,
    RunTrigger,
    ScheduleKind,
    ScheduleStatus,
)
from hookboard.models.workspaces import AuditEvent, Invitation, Membership, Workspace

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertStatus",
    "ApiKey",
    "Attempt",
    "AuditEvent",
    "AuthSession",
    "ChannelKind",
    "Invitation",
    "LoginChallenge",
    "Membership",
    "NotificationChannel",
    "RecoveryCode",
    "Run",
    "RunStatus",
    "RunTrigger",
    "Schedule",
    "ScheduleKind",
    "ScheduleStatus",
    "SigningSecret",
    "Target",
    "User",
    "Workspace",
    "utcnow",
]
