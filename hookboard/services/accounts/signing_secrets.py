"""The signing secret: read it with the previous one still in its grace period, rotate it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from hookboard.core.secrets import live_secret_rows
from hookboard.domain.signing import generate_secret
from hookboard.models import SigningSecret, Workspace
from hookboard.services import audit
from hookboard.services.accounts.rules import now_or_utc
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action
from hookboard.settings import Settings, get_settings

# Enough of a rotated secret to recognise it, far too little to use it.
SECRET_DISPLAY_CHARS = 10


@dataclass(frozen=True)
class SigningSecrets:
    current: SigningSecret
    previous: list[SigningSecret]  # rotated out, still signing until their expires_at


def _split(secrets_: list[SigningSecret]) -> tuple[SigningSecret | None, list[SigningSecret]]:
    current = next((s for s in secrets_ if s.expires_at is None), None)
    return current, [s for s in secrets_ if s.expires_at is not None]


def _lock_workspace(session: Session, workspace_id: int) -> None:
    # Serialises rotations of one workspace on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    session.exec(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()).first()


def get_signing_secrets(
    session: Session, *, workspace_id: int, now: datetime | None = None
) -> SigningSecrets:
    """The current secret and the rotated ones still in their grace period."""
    now = now_or_utc(now)
    current, previous = _split(live_secret_rows(session, workspace_id, now))
    if current is None:
        # Every workspace gets one when it is made; mend a missing one rather than fail.
        _lock_workspace(session, workspace_id)
        current, previous = _split(live_secret_rows(session, workspace_id, now))
        if current is None:
            current = SigningSecret(
                workspace_id=workspace_id, secret=generate_secret(), created_at=now
            )
            session.add(current)
            session.commit()
    return SigningSecrets(current=current, previous=previous)


def rotate_signing_secret(
    session: Session,
    *,
    access: Access,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> SigningSecrets:
    """A new current secret; the old one keeps signing for SIGNING_SECRET_GRACE_HOURS."""
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    settings = settings or get_settings()
    now = now_or_utc(now)
    _lock_workspace(session, workspace_id)
    grace_until = now + timedelta(hours=settings.signing_secret_grace_hours)
    for secret in live_secret_rows(session, workspace_id, now):
        if secret.expires_at is None:
            secret.expires_at = grace_until
            session.add(secret)
    current = SigningSecret(workspace_id=workspace_id, secret=generate_secret(), created_at=now)
    session.add(current)
    session.flush()
    previous = [s for s in live_secret_rows(session, workspace_id, now) if s.id != current.id]
    # Never the secrets themselves: only when the one rotated out stops signing.
    audit.record(
        session,
        access,
        "signing_secret.rotate",
        workspace_id=workspace_id,
        object_type="signing_secret",
        object_id=current.id,
        changes={"previous_expires_at": [None, grace_until.isoformat()]},
    )
    session.commit()
    return SigningSecrets(current=current, previous=previous)


def secret_display_prefix(secret: str) -> str:
    return secret[:SECRET_DISPLAY_CHARS]
